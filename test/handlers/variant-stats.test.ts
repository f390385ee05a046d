import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { deploymentKeys } from '../../shared/deployments/keys.ts';
import { bucketOf, bucketUpperMs } from '../../shared/serving/latency-histogram.ts';
import {
  readVariantStats,
  STATS_BUCKET_MS,
  VariantStatsRecorder,
} from '../../shared/serving/variant-stats.ts';
import { emulatorDocumentClient, tableName, useEmulators } from '../support/handler-env.ts';

let table: string;
const client = () => emulatorDocumentClient();

beforeAll(() => {
  useEmulators({});
  table = tableName('DeploymentsTable');
});

/** A recorder on a clock the test moves. */
function recorder(start: number) {
  const clock = { now: start };
  const emf: string[] = [];
  const stats = new VariantStatsRecorder({
    tableName: table,
    client: client(),
    now: () => clock.now,
    emf: (line) => emf.push(line),
  });
  return { stats, clock, emf };
}

describe('variant statistics in the deployments table', () => {
  it('adds the aggregates of several containers into one item per bucket, and reads them back', async () => {
    const endpoint = `stats-${Date.now()}`;
    const t0 = 1_800_000_000_000;
    const a = recorder(t0);
    const b = recorder(t0 + 500);
    for (let i = 0; i < 98; i++) a.stats.record(endpoint, '3', 'ok', 2);
    a.stats.record(endpoint, '3', 'modelError', 40);
    a.stats.record(endpoint, '3', 'clientError', 1);
    for (let i = 0; i < 100; i++) b.stats.record(endpoint, '3', i < 2 ? 'modelError' : 'ok', i < 50 ? 3 : 20);
    b.stats.record(endpoint, '2', 'ok', 1);
    expect(a.stats.flushDue()).toBe(false);
    a.clock.now += 1000;
    expect(a.stats.flushDue()).toBe(true);
    await Promise.all([a.stats.flush(), b.stats.flush()]);
    expect(a.stats.flushDue()).toBe(false);

    // A second flush into the same bucket adds; a later bucket is a new item.
    a.stats.record(endpoint, '3', 'ok', 2);
    a.clock.now += STATS_BUCKET_MS;
    a.stats.record(endpoint, '3', 'ok', 500);
    await a.stats.flush();

    const item = await client().send(
      new GetCommand({
        TableName: table,
        Key: deploymentKeys.stats(endpoint, '3', t0 - (t0 % STATS_BUCKET_MS)),
      }),
    );
    expect(item.Item).toMatchObject({ invocations: 201, modelErrors: 3, clientErrors: 1, version: '3' });
    expect(item.Item?.expiresAt).toBe(Math.floor((t0 - (t0 % STATS_BUCKET_MS) + 86_400_000) / 1000));

    const stats = await readVariantStats(endpoint, '3', t0, { tableName: table, client: client() });
    expect(stats).toMatchObject({ invocations: 202, errors: 3, clientErrors: 1, buckets: 2 });
    expect(stats.errorRate).toBeCloseTo(3 / 202, 10);
    expect(stats.clientErrorRate).toBeCloseTo(1 / 202, 10);
    // 202 invocations: 1 x 1 ms, 99 x 2 ms, 50 x 3 ms, 50 x 20 ms, 40 ms, 500 ms: rank 101 is 3 ms, rank 200 is 20 ms.
    expect(stats.p99LatencyMs).toBeCloseTo(bucketUpperMs(bucketOf(20)), 3);
    expect(stats.p50LatencyMs).toBeCloseTo(bucketUpperMs(bucketOf(3)), 3);

    // Only the buckets from `since` on; another version's items are never read.
    const later = await readVariantStats(endpoint, '3', t0 + STATS_BUCKET_MS, {
      tableName: table,
      client: client(),
    });
    expect(later).toMatchObject({ invocations: 1, errors: 0, buckets: 1 });
    expect(await readVariantStats(endpoint, '2', t0, { tableName: table, client: client() })).toMatchObject({
      invocations: 1,
    });
    expect(await readVariantStats(endpoint, '4', t0, { tableName: table, client: client() })).toEqual({
      invocations: 0,
      errors: 0,
      clientErrors: 0,
      errorRate: 0,
      clientErrorRate: 0,
      p99LatencyMs: null,
      p50LatencyMs: null,
      buckets: 0,
    });
  });

  it('writes one CloudWatch EMF line per variant and flush', async () => {
    const endpoint = `emf-${Date.now()}`;
    const { stats, emf } = recorder(1_800_000_100_000);
    stats.record(endpoint, '1', 'ok', 2);
    stats.record(endpoint, '1', 'modelError', 9);
    await stats.flush();
    expect(emf).toHaveLength(1);
    const line = JSON.parse(emf[0] as string);
    expect(line._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'Runway/Serving',
      Dimensions: [['Endpoint', 'Version']],
    });
    expect(line).toMatchObject({
      Endpoint: endpoint,
      Version: '1',
      Invocations: 2,
      ModelErrors: 1,
      ClientErrors: 0,
    });
    expect(line.Latency).toHaveLength(2);
  });

  it('keeps an aggregate whose write failed for the next flush', async () => {
    const endpoint = `retry-${Date.now()}`;
    const clock = { now: 1_800_000_200_000 };
    const broken = new VariantStatsRecorder({
      tableName: 'no-such-table',
      client: client(),
      now: () => clock.now,
      emf: () => {},
      logger: { warn() {} } as never,
    });
    broken.record(endpoint, '1', 'ok', 1);
    await broken.flush();
    clock.now += 1000;
    expect(broken.flushDue()).toBe(true);
  });
});
