import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { CaptureBuffer, hourPath } from '../../shared/serving/capture.ts';
import { EndpointRoutes } from '../../shared/serving/endpoint-routes.ts';
import { ModelCache } from '../../shared/serving/model-cache.ts';
import { modelFilesAt } from '../../shared/serving/model-files.ts';
import type { ServableModel } from '../../shared/serving/onnx-model.ts';

const quiet = { info() {}, warn() {}, error() {}, debug() {} } as never;

describe('EndpointRoutes', () => {
  const item = (version: string) => ({
    traffic: {
      primary: { version, storageLocation: 's3://b/m', deploymentId: 'd' },
      canary: null,
      canaryWeight: 0,
      revision: 1,
    },
    status: 'InService',
    target: 'lambda',
    modelName: 'churn-model',
  });

  it('reads an endpoint once per TTL (absent ones too) and sees a change after it', async () => {
    const clock = { now: 0 };
    let stored: Record<string, unknown> | undefined = item('1');
    const reads: unknown[] = [];
    const client = {
      send: async (command: { input: unknown }) => {
        reads.push(command.input);
        return { Item: stored };
      },
    } as unknown as DynamoDBDocumentClient;
    const routes = new EndpointRoutes({ client, tableName: 't', now: () => clock.now });
    expect((await routes.get('churn'))?.traffic.primary?.version).toBe('1');
    stored = item('2');
    clock.now = 999;
    expect((await routes.get('churn'))?.traffic.primary?.version).toBe('1');
    clock.now = 1000;
    expect((await routes.get('churn'))?.traffic.primary?.version).toBe('2');
    expect(reads).toHaveLength(2);
    expect(reads[0]).toMatchObject({
      Key: { pk: 'ENDPOINT#churn', sk: 'ENDPOINT' },
      ProjectionExpression: '#traffic, #revision, #status, #target, #modelName, #capture',
    });
    stored = undefined;
    expect(await routes.get('ghost')).toBeUndefined();
    expect(await routes.get('ghost')).toBeUndefined();
    expect(reads).toHaveLength(3);
  });

  it('refuses an item that breaks the deployments contract, and does not remember the failure', async () => {
    let calls = 0;
    const client = {
      send: async () => {
        calls++;
        return { Item: { traffic: { primary: null }, status: 'InService', target: 'lambda' } };
      },
    } as unknown as DynamoDBDocumentClient;
    const routes = new EndpointRoutes({ client, tableName: 't' });
    await expect(routes.get('bad')).rejects.toThrow(/does not match the deployments contract/);
    await expect(routes.get('bad')).rejects.toThrow();
    expect(calls).toBe(2);
  });
});

describe('ModelCache', () => {
  const fakeModel = (location: string, sizeBytes: number) => {
    const model = { location, sizeBytes, loadMs: 5, released: false, release: async () => {} };
    model.release = async () => {
      model.released = true;
    };
    return model as unknown as ServableModel & { released: boolean };
  };

  it('loads once per location, shares a load in flight, and evicts least recently used by count and bytes', async () => {
    const loads: string[] = [];
    const made = new Map<string, ServableModel & { released: boolean }>();
    const cache = new ModelCache({
      load: async (location) => {
        loads.push(location);
        const model = fakeModel(location, location === 'big' ? 60 : 10);
        made.set(location, model);
        return model;
      },
      maxModels: 2,
      maxBytes: 70,
    });
    const cold: Array<number | undefined> = [];
    await Promise.all([1, 2].map(() => cache.with('a', async (_, ms) => cold.push(ms))));
    expect(loads).toEqual(['a']);
    expect(cold.filter((ms) => ms !== undefined)).toEqual([5]);
    await cache.with('b', async () => undefined);
    await cache.with('a', async () => undefined); // a is now the most recently used
    await cache.with('c', async () => undefined); // three models: b goes
    expect(cache.locations()).toEqual(['a', 'c']);
    expect(made.get('b')?.released).toBe(true);
    await cache.with('big', async () => undefined); // 10 + 10 + 60 > 70 bytes: a goes, 70 fits
    expect(cache.locations()).toEqual(['c', 'big']);
    expect(made.get('a')?.released).toBe(true);
  });

  it('releases an evicted model only once its predictions finished', async () => {
    const models = new Map<string, ServableModel & { released: boolean }>();
    const cache = new ModelCache({
      load: async (location) => {
        const model = fakeModel(location, 10);
        models.set(location, model);
        return model;
      },
      maxModels: 1,
      maxBytes: 100,
    });
    let finish: () => void = () => {};
    const running = cache.with('a', () => new Promise<void>((resolve) => (finish = resolve)));
    await new Promise((resolve) => setTimeout(resolve, 0));
    await cache.with('b', async () => undefined);
    expect(models.get('a')?.released).toBe(false);
    finish();
    await running;
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(models.get('a')?.released).toBe(true);
  });

  it('remembers a failed load for a few seconds, then tries again', async () => {
    const clock = { now: 0 };
    let attempts = 0;
    const cache = new ModelCache({
      load: async () => {
        attempts++;
        throw new Error('broken');
      },
      maxModels: 2,
      maxBytes: 100,
      failureTtlMs: 5000,
      now: () => clock.now,
      logger: quiet,
    });
    await expect(cache.with('x', async () => undefined)).rejects.toThrow('broken');
    await expect(cache.with('x', async () => undefined)).rejects.toThrow('broken');
    expect(attempts).toBe(1);
    clock.now = 5000;
    await expect(cache.with('x', async () => undefined)).rejects.toThrow('broken');
    expect(attempts).toBe(2);
  });
});

describe('CaptureBuffer', () => {
  function buffer(options: { sampleRate?: number; random?: () => number; fail?: boolean } = {}) {
    const clock = { now: Date.UTC(2026, 10, 28, 9, 59, 59) };
    const puts: Array<{ Key: string; Body: string }> = [];
    const s3 = {
      send: async (command: { input: { Key: string; Body: string } }) => {
        if (options.fail) throw new Error('down');
        puts.push(command.input);
        return {};
      },
    } as unknown as S3Client;
    const capture = new CaptureBuffer({
      bucket: 'b',
      sampleRate: options.sampleRate ?? 1,
      s3: () => s3,
      logger: quiet,
      maxAgeMs: 60_000,
      maxRecordBytes: 100,
      random: options.random,
      now: () => clock.now,
    });
    return { capture, clock, puts };
  }
  const meta = (endpoint: string) => ({
    requestId: 'r',
    inferenceId: '0190a0b2-0000-7000-8000-000000000000',
    endpoint,
    version: '1',
    variant: 'primary' as const,
    status: 200,
    latencyMs: 1.5,
    contentType: 'application/json',
  });

  it('samples at its rate, and never when the rate is 0', () => {
    let i = 0;
    const { capture } = buffer({ sampleRate: 0.25, random: () => (i++ % 4) / 4 });
    expect(Array.from({ length: 8 }, () => capture.sampled()).filter(Boolean)).toHaveLength(2);
    expect(buffer({ sampleRate: 0 }).capture.sampled()).toBe(false);
  });

  it('writes JSON lines per endpoint and hour once the oldest record is a minute old', async () => {
    const { capture, clock, puts } = buffer();
    capture.append(meta('churn'), '{\n  "inputs": [[1, 2]]\n}', true, '{"predictions":{"p":[[0.5]]}}');
    clock.now += 2000; // the next hour
    capture.append(meta('churn'), 'a,b\n1,2\n', false, '{"error_code":"BAD_REQUEST","message":"x"}');
    capture.append(meta('fraud'), `{"inputs": [${'1,'.repeat(100)}1]}`, true, '{"predictions":{}}');
    expect(capture.flushDue()).toBe(false);
    clock.now += 58_000;
    expect(capture.flushDue()).toBe(true);
    await capture.flush();
    expect(puts.map((put) => put.Key).sort()).toEqual([
      expect.stringMatching(/^serving-capture\/churn\/2026\/11\/28\/09\/\d{13}-[0-9a-f]{8}-\d+\.jsonl$/),
      expect.stringMatching(/^serving-capture\/churn\/2026\/11\/28\/10\//),
      expect.stringMatching(/^serving-capture\/fraud\/2026\/11\/28\/10\//),
    ]);
    const lines = puts.flatMap((put) =>
      put.Body.trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    );
    expect(lines.find((l) => l.capturedAt.startsWith('2026-11-28T09'))).toMatchObject({
      request: { inputs: [[1, 2]] },
      response: { predictions: { p: [[0.5]] } },
      latencyMs: 1.5,
    });
    expect(lines.find((l) => l.response.error_code)).toMatchObject({ request: 'a,b\n1,2\n' });
    expect(lines.find((l) => l.endpoint === 'fraud')).toMatchObject({
      request: null,
      requestTruncated: true,
    });
    expect(capture.flushDue()).toBe(false);
  });

  it('keeps records whose write failed', async () => {
    const { capture, clock } = buffer({ fail: true });
    capture.append(meta('churn'), '{}', true, '{}');
    clock.now += 60_000;
    await capture.flush();
    expect(capture.flushDue()).toBe(true);
  });

  it('names hours in UTC', () => {
    expect(hourPath(Date.UTC(2026, 0, 2, 3, 4, 5))).toBe('2026/01/02/03');
  });
});

describe('model files', () => {
  it('refuses a file above the limit and reads a missing one as absent', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'runway-files-'));
    try {
      writeFileSync(path.join(dir, 'model.onnx'), Buffer.alloc(2048));
      const files = modelFilesAt(dir, () => ({}) as S3Client);
      await expect(files.read('model.onnx', 1024)).rejects.toThrow(
        /model.onnx in .* is 2048 bytes; the Lambda model server loads at most 1024 bytes/,
      );
      expect(await files.read('missing', 1024)).toBeUndefined();
      expect(() => modelFilesAt('runs:/abc/model', () => ({}) as S3Client)).toThrow(
        /expected s3:\/\/bucket\/prefix/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
