import type { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { Logger } from '../../shared/platform/logger.ts';
import { EventBridgeRegistryPublisher } from '../../shared/registry/adapters/events.eventbridge-publisher.ts';
import type { RegistryEvent } from '../../shared/registry/events/index.ts';

type Entry = { DetailType?: string; Detail?: string; Source?: string; EventBusName?: string };

/** An EventBridge client that answers from a script: per call, which entries fail, or a thrown error. */
function fakeClient(script: Array<'ok' | 'fail-all' | 'fail-first' | 'throw'>) {
  const calls: Entry[][] = [];
  const client = {
    send: async (command: PutEventsCommand) => {
      const entries = (command.input.Entries ?? []) as Entry[];
      calls.push(entries);
      const step = script.shift() ?? 'ok';
      if (step === 'throw') throw Object.assign(new Error('network down'), { name: 'NetworkingError' });
      return {
        FailedEntryCount: step === 'ok' ? 0 : 1,
        Entries: entries.map((_entry, index) =>
          step === 'fail-all' || (step === 'fail-first' && index === 0)
            ? { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }
            : { EventId: `id-${index}` },
        ),
      };
    },
  } as unknown as EventBridgeClient;
  return { client, calls };
}

function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  return { logger: new Logger({ level: 'debug', sink: (line) => lines.push(JSON.parse(line)) }), lines };
}

function tagSet(key: string): RegistryEvent {
  return {
    name: 'registry.registered-model.tag-set',
    detail: {
      version: 1,
      idempotencyKey: `model-1:tag-set:${key}:r2`,
      occurredAt: '2026-03-02T10:15:30.123Z',
      modelId: 'model-1',
      modelName: 'churn',
      key,
      value: 'v',
      previousValue: null,
    },
  };
}

describe('EventBridge registry publisher', () => {
  it('sends each event once with the module source and name, on the configured bus', async () => {
    const { client, calls } = fakeClient(['ok']);
    await new EventBridgeRegistryPublisher('runway-bus', client, { retryDelayMs: 0 }).publish([tagSet('a')]);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.[0]).toMatchObject({
      EventBusName: 'runway-bus',
      Source: 'runway.registry',
      DetailType: 'registry.registered-model.tag-set',
    });
    expect(JSON.parse(calls[0]?.[0]?.Detail ?? '')).toMatchObject({ key: 'a', version: 1 });
  });

  it('splits more than 10 events into PutEvents calls of at most 10', async () => {
    const { client, calls } = fakeClient([]);
    const events = Array.from({ length: 23 }, (_, i) => tagSet(`k${i}`));
    await new EventBridgeRegistryPublisher('bus', client, { retryDelayMs: 0 }).publish(events);
    expect(calls.map((call) => call.length)).toEqual([10, 10, 3]);
  });

  it('retries only the entries EventBridge refused', async () => {
    const { client, calls } = fakeClient(['fail-first', 'ok']);
    await new EventBridgeRegistryPublisher('bus', client, { retryDelayMs: 0 }).publish([
      tagSet('a'),
      tagSet('b'),
    ]);
    expect(calls.map((call) => call.map((entry) => JSON.parse(entry.Detail ?? '').key))).toEqual([
      ['a', 'b'],
      ['a'],
    ]);
  });

  it('never throws: after the last attempt it logs each lost event with its idempotency key', async () => {
    const { client, calls } = fakeClient(['throw', 'fail-all', 'throw']);
    const { logger, lines } = capturingLogger();
    await expect(
      new EventBridgeRegistryPublisher('bus', client, { retryDelayMs: 0, logger }).publish([tagSet('a')]),
    ).resolves.toBeUndefined();
    expect(calls).toHaveLength(3);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'error',
        message: 'registry event not published',
        idempotencyKey: 'model-1:tag-set:a:r2',
        error: 'NetworkingError: network down',
      }),
    ]);
  });

  it('does not send a detail that breaks its schema, and says so', async () => {
    const { client, calls } = fakeClient([]);
    const { logger, lines } = capturingLogger();
    const broken = tagSet('a');
    broken.detail.modelName = '';
    await new EventBridgeRegistryPublisher('bus', client, { logger }).publish([broken, tagSet('b')]);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.map((entry) => JSON.parse(entry.Detail ?? '').key)).toEqual(['b']);
    expect(lines[0]).toMatchObject({ level: 'error', detailType: 'registry.registered-model.tag-set' });
  });
});
