import { describe, expect, it } from 'vitest';
import type { RunFields, RunRepository } from '../../shared/tracking/ports.ts';
import type { Run } from '../../shared/tracking/run.model.ts';
import { RunService } from '../../shared/tracking/run.service.ts';

function run(i: number, acc: number): Run {
  return {
    info: {
      runId: `run${String(i).padStart(3, '0')}`,
      experimentId: '1',
      userId: '',
      status: 'RUNNING',
      startTime: 1000 + i,
      artifactUri: 'x',
      lifecycleStage: 'active',
    },
    metrics: [{ key: 'acc', value: acc, timestamp: 1, step: 0 }],
    params: [],
    tags: [],
    inputs: [],
    modelInputs: [],
    outputs: [],
  };
}

/** Which read a search chose: projections then the page's runs, or every run whole. */
function service(options: { projectable?: boolean } = {}) {
  const runs = Array.from({ length: 30 }, (_, i) => run(i, (i * 7) % 30));
  const calls = { listFields: [] as RunFields[], getMany: [] as string[][], listByExperiment: 0 };
  const repository = {
    // Experiments made before the search index: these tests are about the reads without it.
    isIndexed: async () => false,
    listByExperiment: async () => {
      calls.listByExperiment += 1;
      return runs;
    },
    listFields: async (_experimentId: string, fields: RunFields) => {
      calls.listFields.push(fields);
      return options.projectable === false ? undefined : runs.map((r) => ({ ...r, params: [], tags: [] }));
    },
    getMany: async (ids: string[]) => {
      calls.getMany.push(ids);
      return runs.filter((r) => ids.includes(r.info.runId));
    },
  } as Partial<RunRepository> as RunRepository;
  const experiments = { get: async () => ({}) as never };
  return { runs: new RunService(repository, experiments), calls };
}

describe('search runs: which read a search chooses', () => {
  it('reads projections of the named fields, then only the page whole, for a small page', async () => {
    const { runs, calls } = service();
    const page = await runs.search({
      experimentIds: ['1'],
      orderBy: ['metrics.acc DESC'],
      filter: "tags.t != 'x'",
      maxResults: 3,
    });
    expect(calls.listByExperiment).toBe(0);
    expect(calls.listFields).toEqual([{ metrics: ['acc'], params: [], tags: ['t'], attributes: false }]);
    expect(calls.getMany).toEqual([page.runs.map((r) => r.info.runId)]);
  });

  it('asks the projections for the run attributes only when the filter or order names one', async () => {
    const cases: Array<[{ orderBy?: string[]; filter?: string }, boolean]> = [
      [{ orderBy: ['attributes.end_time DESC'] }, true],
      [{ filter: "attributes.status = 'FINISHED'" }, true],
      [{ filter: "attributes.run_name = 'a'" }, false],
      [{ orderBy: ['params.p'] }, false],
    ];
    for (const [input, attributes] of cases) {
      const { runs, calls } = service();
      await runs.search({ experimentIds: ['1'], maxResults: 3, ...input });
      expect(calls.listFields[0]?.attributes, JSON.stringify(input)).toBe(attributes);
    }
  });

  it('reads every run whole for a large page, a dataset filter, or fields it cannot project', async () => {
    for (const [input, projectable] of [
      [{ maxResults: 1000 }, true],
      [{ maxResults: 5, filter: "dataset.name = 'd'" }, true],
      [{ maxResults: 5 }, false],
    ] as const) {
      const { runs, calls } = service({ projectable });
      await runs.search({ experimentIds: ['1'], ...input });
      expect(calls.listByExperiment, JSON.stringify(input)).toBe(1);
      expect(calls.getMany).toEqual([]);
    }
  });

  it('orders the page as the full read does, and pages on with the same token', async () => {
    const small = service();
    const large = service();
    const order = { experimentIds: ['1'], orderBy: ['metrics.acc DESC'] };
    const whole = await large.runs.search({ ...order, maxResults: 1000 });
    const first = await small.runs.search({ ...order, maxResults: 4 });
    const second = await small.runs.search({ ...order, maxResults: 4, pageToken: first.nextPageToken });
    expect([...first.runs, ...second.runs]).toEqual(whole.runs.slice(0, 8));
  });
});
