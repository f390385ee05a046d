import { describe, expect, it } from 'vitest';
import { InvalidParameterError, ResourceDoesNotExistError } from '../../shared/platform/errors.ts';
import { LoggedModelService } from '../../shared/tracking/logged-models/logged-model.service.ts';
import type {
  KeyValue,
  LinkedMetric,
  LoggedModel,
  LoggedModelStatus,
} from '../../shared/tracking/logged-models/model.ts';
import type {
  ExperimentLookup,
  LinkedMetricsReader,
  LoggedModelRepository,
} from '../../shared/tracking/logged-models/ports.ts';
import type { Experiment } from '../../shared/tracking/model.ts';

/** The repository contract, in memory. */
class MemoryRepository implements LoggedModelRepository {
  readonly models = new Map<string, LoggedModel>();
  /** Simulates a concurrent writer that stores this value just before `addParams` runs. */
  raceParam: KeyValue | undefined;

  async create(model: LoggedModel) {
    if (this.models.has(model.modelId)) throw new Error('taken');
    this.models.set(model.modelId, structuredClone(model));
  }
  async get(modelId: string) {
    const model = this.models.get(modelId);
    return model && structuredClone(model);
  }
  async listActive(experimentId: string) {
    return [...this.models.values()].filter(
      (m) => m.experimentId === experimentId && m.lifecycleStage === 'active',
    );
  }
  private active(modelId: string) {
    const model = this.models.get(modelId);
    return model?.lifecycleStage === 'active' ? model : undefined;
  }
  async setTags(modelId: string, tags: Record<string, string>) {
    const model = this.active(modelId);
    if (model) Object.assign(model.tags, tags);
    return model !== undefined;
  }
  async replaceTag(modelId: string, key: string, expected: string | undefined, value: string) {
    const model = this.active(modelId);
    if (!model) return 'no-model' as const;
    if (model.tags[key] !== expected) return 'changed' as const;
    model.tags[key] = value;
    return 'replaced' as const;
  }
  async deleteTag(modelId: string, key: string) {
    const model = this.active(modelId);
    if (!model) return 'no-model' as const;
    if (!Object.hasOwn(model.tags, key)) return 'no-tag' as const;
    delete model.tags[key];
    return 'deleted' as const;
  }
  async addParams(modelId: string, params: readonly KeyValue[]) {
    const model = this.active(modelId);
    if (!model) return 'no-model' as const;
    if (this.raceParam) model.params[this.raceParam.key] = this.raceParam.value;
    if (params.some(({ key, value }) => model.params[key] !== undefined && model.params[key] !== value)) {
      return 'conflict' as const;
    }
    for (const { key, value } of params) model.params[key] = value;
    return 'added' as const;
  }
  async finalize(modelId: string, status: LoggedModelStatus, now: number) {
    const model = this.active(modelId);
    if (!model) return undefined;
    Object.assign(model, { status, lastUpdatedTimestamp: now });
    return structuredClone(model);
  }
  async markDeleted(modelId: string, now: number) {
    const model = this.models.get(modelId);
    if (model) Object.assign(model, { lifecycleStage: 'deleted', lastUpdatedTimestamp: now });
    return model !== undefined;
  }
}

const experiment = (id: string, stage: Experiment['lifecycleStage'] = 'active'): Experiment => ({
  experimentId: id,
  name: `e${id}`,
  artifactLocation: `s3://bucket/root/${id}/`,
  lifecycleStage: stage,
  creationTime: 0,
  lastUpdateTime: 0,
  tags: {},
});

function setup(options: { metrics?: Record<string, LinkedMetric[]> } = {}) {
  const repository = new MemoryRepository();
  const experimentReads: string[] = [];
  const experiments: ExperimentLookup = {
    get: async (id) => {
      experimentReads.push(id);
      if (id === '1' || id === '2') return experiment(id);
      if (id === '9') return experiment(id, 'deleted');
      throw new ResourceDoesNotExistError(`No Experiment with id=${id} exists`);
    },
  };
  const metricReads: string[][] = [];
  const metrics: LinkedMetricsReader = {
    metricsOf: async (models) => {
      metricReads.push(models.map((m) => m.modelId));
      return new Map(Object.entries(options.metrics ?? {}));
    },
  };
  let next = 0;
  let now = 1000;
  const service = new LoggedModelService({
    models: repository,
    experiments,
    metrics,
    clock: { now: () => now++ },
    newId: () => `m-${String(++next).padStart(32, '0')}`,
    newName: () => 'made-up-name-1',
  });
  return { service, repository, experimentReads, metricReads };
}

const id = (n: number) => `m-${String(n).padStart(32, '0')}`;

describe('LoggedModelService.create', () => {
  it('creates PENDING under <experiment location>/models/<id>/artifacts with a made-up name', async () => {
    const { service } = setup();
    const model = await service.create({ experimentId: '1', tags: [{ key: 't', value: 'v' }] });
    expect(model).toMatchObject({
      modelId: id(1),
      name: 'made-up-name-1',
      artifactLocation: `s3://bucket/root/1/models/${id(1)}/artifacts`,
      status: 'LOGGED_MODEL_PENDING',
      creationTimestamp: 1000,
      lastUpdatedTimestamp: 1000,
      modelType: '',
      sourceRunId: '',
      tags: { t: 'v' },
      params: {},
      metrics: [],
    });
  });

  it('validates before it reads the experiment', async () => {
    const { service, experimentReads } = setup();
    await expect(service.create({ experimentId: '1', name: 'a.b' })).rejects.toThrow(InvalidParameterError);
    await expect(
      service.create({ experimentId: '1', params: [{ key: 'k', value: 'v'.repeat(6001) }] }),
    ).rejects.toThrow(/Param value .* exceeded length limit of 6000/);
    expect(experimentReads).toEqual([]);
  });

  it('refuses deleted experiments (400) and passes the 404 of unknown ones through', async () => {
    const { service } = setup();
    await expect(service.create({ experimentId: '9' })).rejects.toThrow(
      new InvalidParameterError("The experiment 9 must be in the 'active' state. Current state is deleted."),
    );
    await expect(service.create({ experimentId: '5' })).rejects.toThrow(ResourceDoesNotExistError);
  });
});

describe('LoggedModelService writes', () => {
  it('finalizes only as READY or UPLOAD_FAILED', async () => {
    const { service } = setup();
    await service.create({ experimentId: '1' });
    await expect(service.finalize(id(1), 'LOGGED_MODEL_PENDING')).rejects.toThrow(InvalidParameterError);
    const ready = await service.finalize(id(1), 'LOGGED_MODEL_READY');
    expect(ready.status).toBe('LOGGED_MODEL_READY');
    expect(ready.lastUpdatedTimestamp).toBeGreaterThan(ready.creationTimestamp);
  });

  it('lets the last value of a tag given twice in one request win', async () => {
    const { service, repository } = setup();
    await service.create({ experimentId: '1' });
    await service.setTags(id(1), [
      { key: 'k', value: '1' },
      { key: 'k', value: '2' },
    ]);
    expect(repository.models.get(id(1))?.tags).toEqual({ k: '2' });
  });

  it('explains a param conflict a concurrent writer caused', async () => {
    const { service, repository } = setup();
    await service.create({ experimentId: '1' });
    repository.raceParam = { key: 'lr', value: '0.2' };
    await expect(service.logParams(id(1), [{ key: 'lr', value: '0.1' }])).rejects.toThrow(
      /Param with key='lr' was already logged with value='0.2'/,
    );
  });

  it('writes nothing when every param is already there with its value', async () => {
    const { service, repository, metricReads } = setup();
    await service.create({ experimentId: '1', params: [{ key: 'lr', value: '0.1' }] });
    repository.raceParam = { key: 'other', value: 'x' };
    await service.logParams(id(1), [{ key: 'lr', value: '0.1' }]);
    expect(repository.models.get(id(1))?.params).toEqual({ lr: '0.1' });
    // Writes read the stored model only, never its linked metrics.
    await service.setTags(id(1), []);
    expect(metricReads).toEqual([]);
  });

  it('treats deleted models as missing, except get with allowDeleted and a second delete', async () => {
    const { service } = setup();
    await service.create({ experimentId: '1' });
    await service.delete(id(1));
    await service.delete(id(1));
    await expect(service.get(id(1))).rejects.toThrow(ResourceDoesNotExistError);
    expect((await service.get(id(1), { allowDeleted: true })).lifecycleStage).toBe('deleted');
    await expect(service.setTags(id(1), [])).rejects.toThrow(ResourceDoesNotExistError);
    await expect(service.deleteTag(id(1), 'k')).rejects.toThrow(/Logged model with ID/);
    await expect(service.delete('m-nope')).rejects.toThrow(ResourceDoesNotExistError);
  });
});

describe('LoggedModelService.search', () => {
  async function seeded(metrics: Record<string, LinkedMetric[]> = {}) {
    const context = setup({ metrics });
    for (const [experimentId, name] of [
      ['1', 'a'],
      ['1', 'b'],
      ['2', 'c'],
      ['1', 'd'],
    ] as const) {
      await context.service.create({ experimentId, name });
    }
    return context;
  }

  it('reads linked metrics for the page only when neither filter nor order needs them', async () => {
    const { service, metricReads } = await seeded();
    const page = await service.search({
      experimentIds: ['1', '2', '1'],
      maxResults: 2,
      orderBy: [{ fieldName: 'name' }],
    });
    expect(page.models.map((m) => m.name)).toEqual(['a', 'b']);
    expect(metricReads).toEqual([[id(1), id(2)]]);
    expect(page.nextPageToken).toEqual(expect.any(String));
    const rest = await service.search({
      experimentIds: ['1', '2', '1'],
      maxResults: 2,
      orderBy: [{ fieldName: 'name' }],
      pageToken: page.nextPageToken,
    });
    expect(rest.models.map((m) => m.name)).toEqual(['c', 'd']);
    expect(rest.nextPageToken).toBeUndefined();
  });

  it('filters and orders on linked metrics, reading them once for every candidate', async () => {
    const link = (modelId: string, value: number): LinkedMetric[] => [
      { key: 'acc', value, timestamp: 1, step: 0, runId: 'r', modelId, datasetName: 'test' },
    ];
    const { service, metricReads } = await seeded({
      [id(1)]: link(id(1), 0.7),
      [id(2)]: link(id(2), 0.95),
      [id(4)]: link(id(4), 0.9),
    });
    const page = await service.search({
      experimentIds: ['1'],
      filter: 'metrics.acc >= 0.9',
      datasets: [{ datasetName: 'test' }],
      orderBy: [{ fieldName: 'metrics.acc', ascending: false }],
    });
    expect(page.models.map((m) => [m.name, m.metrics[0]?.value])).toEqual([
      ['b', 0.95],
      ['d', 0.9],
    ]);
    expect(metricReads).toEqual([[id(1), id(2), id(4)]]);
  });

  it('defaults max_results to 100, refuses out-of-range values and a token of another query', async () => {
    const { service } = await seeded();
    expect((await service.search({ experimentIds: ['1'], maxResults: 0 })).models).toHaveLength(3);
    await expect(service.search({ experimentIds: ['1'], maxResults: -1 })).rejects.toThrow(
      InvalidParameterError,
    );
    const first = await service.search({ experimentIds: ['1'], maxResults: 1 });
    await expect(
      service.search({
        experimentIds: ['1'],
        maxResults: 1,
        filter: "name = 'a'",
        pageToken: first.nextPageToken,
      }),
    ).rejects.toThrow(/different query/);
  });
});
