import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../infra/local/runtime.ts';
import { LOGREG_EXPECTED, seedEndpoint } from '../support/serving-seed.ts';

let dataDir: string;
let runtime: LocalRuntime;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'runway-local-serving-'));
  runtime = await LocalRuntime.start({ port: 0, dataDir, functionLogs: 'silent', log: () => undefined });
});

afterAll(async () => {
  await runtime?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const invoke = (name: string, body: string, contentType = 'application/json') =>
  fetch(`${runtime.url}/endpoints/${name}/invocations`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  });

describe('the model server on the local runtime', () => {
  it('serves the route of the Runway-Serving stack through API Gateway to the model server function', () => {
    const route = runtime.gateway.match('POST', '/endpoints/churn/invocations');
    expect(route?.routeKey).toBe('POST /endpoints/{name}/invocations');
    expect(route?.functionArn).toMatch(/ModelServerFunction/);
  });

  it('answers an MLflow scoring request over HTTP with the deployed version', async () => {
    await seedEndpoint(runtime, 'local-churn', { version: '7' });
    const response = await invoke('local-churn', JSON.stringify({ inputs: LOGREG_EXPECTED.x }));
    expect(response.status).toBe(200);
    expect(response.headers.get('x-runway-model-version')).toBe('7');
    expect(response.headers.get('content-type')).toBe('application/json');
    const { predictions } = (await response.json()) as { predictions: { p: number[][] } };
    predictions.p.forEach((row, i) => {
      expect(row[0]).toBeCloseTo(LOGREG_EXPECTED.expected[i]?.[0] as number, 6);
    });
  });

  it('answers MLflow errors over HTTP: 404 for an unknown endpoint, 400 for a bad shape, 415 for a bad type', async () => {
    const missing = await invoke('nobody-here', '{"inputs": [[1]]}');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' });
    const bad = await invoke('local-churn', '{"inputs": [[1, 2]]}');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: expect.stringContaining('(1, 2)'),
    });
    expect((await invoke('local-churn', 'x', 'text/plain')).status).toBe(415);
    expect((await fetch(`${runtime.url}/endpoints/local-churn/invocations`)).status).toBe(404);
  });
});
