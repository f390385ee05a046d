import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoRunRepository } from '../../shared/tracking/adapters/run.dynamodb-repository.ts';
import type { RunRepository } from '../../shared/tracking/ports.ts';
import { RunService } from '../../shared/tracking/run.service.ts';
import { parseOrderBy, parseSearchFilter } from '../../shared/tracking/search/index.ts';
import { planRunSearch } from '../../shared/tracking/search/run-search-plan.ts';
import { type ApiHandler, handlerCaller, unique } from '../support/handler-call.ts';
import { tableName, useEmulators } from '../support/handler-env.ts';

let handler: ApiHandler;
const call = handlerCaller(() => handler);

/** The search service over the index, one forced to read every run, and what the first one read. */
let indexed: RunService;
let fullRead: RunService;
const reads = { index: 0, full: 0 };

beforeAll(async () => {
  useEmulators({ TRACKING_TABLE_NAME: tableName('TrackingTable') });
  ({ handler } = (await import('../../functions/tracking-api.ts')) as unknown as { handler: ApiHandler });
  const repository = new DynamoRunRepository(tableName('TrackingTable'));
  const counting = new Proxy(repository, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (property === 'runIdsWhere' || property === 'metricEntries') reads.index++;
        if (property === 'listByExperiment' || property === 'listFields') reads.full++;
        return value.apply(target, args);
      };
    },
  });
  // The same store, as an experiment made before the index is read: every run, then the same logic.
  const unindexed = new Proxy(repository, {
    get(target, property, receiver) {
      if (property === 'isIndexed') return async () => false;
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as RunRepository;
  const experiments = { get: async () => ({}) as never };
  indexed = new RunService(counting as RunRepository, experiments);
  fullRead = new RunService(unindexed, experiments);
});

async function post(path: string, body: unknown) {
  const response = await call('POST', path, body);
  expect(response.status, `${path} ${JSON.stringify(response.json)}`).toBe(200);
  return response.json;
}

/** Metric values that stress the order: ties, NaN (stored as 0 by filters), zeros, the largest doubles. */
const VALUES = [0, -0, 1, 1, 1, 1, 2.5, 2.5, -3, 'NaN', 'NaN', 'Infinity', '-Infinity', 1e-9, 7];
const PARAMS = ['a', 'b', 'a long value '.repeat(50)];
const STATUSES = ['RUNNING', 'FINISHED', 'FAILED', 'KILLED'];

interface Dataset {
  experiments: string[];
  runIds: string[];
}

/**
 * Runs written through the tracking handler as clients write them: points by log-metric and by
 * log-batch, steps out of order (the latest is by step, then time, then value), params, tags set,
 * overwritten and deleted, renames, status changes, deleted runs, start times that tie.
 */
async function writeDataset(seed: number): Promise<Dataset> {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
  const experiments = [
    (await post('experiments/create', { name: unique('index-a') })).experiment_id as string,
    (await post('experiments/create', { name: unique('index-b') })).experiment_id as string,
  ];
  const runIds: string[] = [];
  for (let i = 0; i < 36; i++) {
    const experimentId = experiments[i % 5 === 0 ? 1 : 0] as string;
    const run = await post('runs/create', {
      experiment_id: experimentId,
      start_time: 1000 + Math.floor(random() * 6),
      run_name: `r${Math.floor(random() * 8)}`,
      tags: [{ key: 't0', value: pick(['x', 'y']) }],
    });
    const runId = run.run.info.run_id as string;
    runIds.push(runId);
    for (const key of ['m0', 'm1', 'm2']) {
      if (random() < 0.25) continue;
      const points = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({
        key,
        value: pick(VALUES),
        timestamp: 1 + Math.floor(random() * 3),
        step: Math.floor(random() * 4),
      }));
      if (random() < 0.5) {
        for (const point of points) await post('runs/log-metric', { run_id: runId, ...point });
      } else {
        await post('runs/log-batch', { run_id: runId, metrics: points });
      }
    }
    await post('runs/log-batch', {
      run_id: runId,
      params: random() < 0.8 ? [{ key: 'p0', value: pick(PARAMS) }] : [],
      tags: [
        { key: 't1', value: pick(['u', 'v', 'w']) },
        ...(random() < 0.3 ? [{ key: 't0', value: pick(['x', 'y', 'z']) }] : []),
      ],
    });
    if (random() < 0.2) await post('runs/delete-tag', { run_id: runId, key: 't1' });
    if (random() < 0.2)
      await post('runs/update', { run_id: runId, run_name: `r${Math.floor(random() * 8)}` });
    if (random() < 0.6) await post('runs/update', { run_id: runId, status: pick(STATUSES), end_time: 5000 });
    if (random() < 0.15) await post('runs/delete', { run_id: runId });
  }
  return { experiments, runIds };
}

/** A filter clause the index serves, or one it does not (which the candidates must still pass). */
function clauses(dataset: Dataset) {
  const value = fc.constantFrom('0', '1', '-3', '2.5', '7', '-1', '1.7976931348623157e308', '1e-9');
  const metric = fc.constantFrom('m0', 'm1', 'm2');
  return fc.oneof(
    fc
      .tuple(metric, fc.constantFrom('<', '<=', '>', '>=', '=', '!='), value)
      .map(([k, op, v]) => `metrics.${k} ${op} ${v}`),
    fc.constantFrom(...PARAMS).map((v) => `params.p0 = '${v}'`),
    fc.constantFrom('x', 'y', 'z', 'u', 'w').map((v) => `tags.t${v < 'u' ? 0 : 1} = '${v}'`),
    fc.integer({ min: 0, max: 8 }).map((n) => `attributes.run_name = 'r${n}'`),
    fc.constantFrom(...STATUSES).map((s) => `attributes.status = '${s}'`),
    fc.constantFrom(...dataset.runIds.slice(0, 6)).map((id) => `attributes.run_id = '${id}'`),
    fc.constant(`run_id IN ('${dataset.runIds[1]}', '${dataset.runIds[7]}', '${dataset.runIds[20]}')`),
    fc.constantFrom("params.p0 != 'a'", "tags.t1 LIKE 'u%'", 'attributes.start_time >= 1002'),
  );
}

function orders() {
  return fc.oneof(
    fc.constant([] as string[]),
    fc
      .tuple(fc.constantFrom('m0', 'm1', 'm2'), fc.constantFrom('ASC', 'DESC'))
      .map(([k, d]) => [`metrics.${k} ${d}`]),
    fc.constant(['metrics.m0 DESC', 'params.p0 ASC']),
    fc.constant(['attributes.start_time ASC']),
    fc.constant(['tags.t1 DESC']),
  );
}

/** Every page of a search, as run ids and whether a next page was offered. */
async function pages(
  service: RunService,
  query: {
    experimentIds: string[];
    filter: string;
    orderBy: readonly string[];
    maxResults: number;
    viewType: never;
  },
) {
  const out: Array<{ runs: string[]; next: boolean }> = [];
  let pageToken: string | undefined;
  do {
    const page = await service.search({ ...query, orderBy: [...query.orderBy], pageToken });
    out.push({ runs: page.runs.map((run) => run.info.runId), next: page.nextPageToken !== undefined });
    pageToken = page.nextPageToken;
  } while (pageToken && out.length < 12);
  return out;
}

describe('search runs through the index', () => {
  it('answers every shape it serves exactly as reading every run does (random runs and queries)', async () => {
    for (const seed of [17, 4242]) {
      const dataset = await writeDataset(seed);
      const before = { ...reads };
      let planned = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(clauses(dataset), { minLength: 1, maxLength: 3 }),
          orders(),
          fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 12 })),
          fc.constantFrom('ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'),
          fc.constantFrom([0], [0, 1], [1]),
          async (filters, orderBy, maxResults, viewType, which) => {
            const filter = filters.join(' AND ');
            if (planRunSearch(parseSearchFilter(filter, 'runs'), parseOrderBy(orderBy, 'runs'))) planned++;
            const query = {
              experimentIds: which.map((i) => dataset.experiments[i] as string),
              filter,
              orderBy,
              maxResults,
              viewType: viewType as never,
            };
            expect(await pages(indexed, query), JSON.stringify(query)).toEqual(await pages(fullRead, query));
          },
        ),
        { seed, numRuns: 120 },
      );
      // The comparison means something only if the index answered most of the queries.
      expect(planned).toBeGreaterThan(80);
      expect(reads.index - before.index).toBeGreaterThan(80);

      // Walks in a metric's order, page after page through ties, NaN and runs without the metric.
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('', "params.p0 != 'a'", "tags.t1 LIKE 'u%'", 'metrics.m1 >= 1', 'metrics.m0 <= 1'),
          fc.tuple(fc.constantFrom('m0', 'm1'), fc.constantFrom('ASC', 'DESC')),
          fc.integer({ min: 1, max: 4 }),
          fc.constantFrom('ACTIVE_ONLY', 'ALL'),
          async (filter, [key, direction], maxResults, viewType) => {
            const query = {
              experimentIds: [dataset.experiments[0] as string],
              filter,
              orderBy: [`metrics.${key} ${direction}`],
              maxResults,
              viewType: viewType as never,
            };
            expect(await pages(indexed, query), JSON.stringify(query)).toEqual(await pages(fullRead, query));
          },
        ),
        { seed, numRuns: 60 },
      );
    }
  }, 300_000);

  it('reads the index, not every run, for a selective search', async () => {
    const { experiments } = await writeDataset(99);
    const before = { ...reads };
    for (const filter of [
      "tags.t1 = 'u'",
      "params.p0 = 'a'",
      'metrics.m0 < 1',
      "attributes.status = 'KILLED'",
    ]) {
      await indexed.search({ experimentIds: [experiments[0] as string], filter });
    }
    await indexed.search({
      experimentIds: [experiments[0] as string],
      orderBy: ['metrics.m1 DESC'],
      maxResults: 3,
    });
    expect(reads.full - before.full).toBe(0);
    expect(reads.index - before.index).toBeGreaterThanOrEqual(5);
  });
});

/** A small seeded generator, so a failure can be replayed. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
