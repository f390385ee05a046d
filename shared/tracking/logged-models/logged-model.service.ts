import { InvalidParameterError, ResourceDoesNotExistError } from '../../platform/errors.ts';
import { validateLength } from '../model.ts';
import type { Clock } from '../ports.ts';
import { systemClock } from '../ports.ts';
import { randomRunName } from '../run-names.ts';
import { decodePageToken, paginate, queryFingerprint } from '../search/index.ts';
import {
  FINAL_STATUSES,
  isModelId,
  type KeyValue,
  LOGGED_MODEL_LIMITS,
  type LoggedModel,
  type LoggedModelStatus,
  type LoggedModelWithMetrics,
  modelArtifactLocation,
  newModelId,
  validateEntries,
  validateLoggedModelName,
} from './model.ts';
import type { ExperimentLookup, LinkedMetricsReader, LoggedModelRepository } from './ports.ts';
import { parseLoggedModelFilter } from './search/logged-model-filter.parser.ts';
import {
  compileLoggedModelFilter,
  type DatasetFilter,
  type OrderByInput,
  parseLoggedModelOrderBy,
  readsMetrics,
  sortLoggedModels,
} from './search/logged-model-search.ts';

export interface CreateLoggedModelInput {
  experimentId: string;
  name?: string | undefined;
  modelType?: string | undefined;
  sourceRunId?: string | undefined;
  params?: readonly KeyValue[] | undefined;
  tags?: readonly KeyValue[] | undefined;
}

export interface SearchLoggedModelsInput {
  experimentIds: readonly string[];
  filter?: string | undefined;
  datasets?: readonly DatasetFilter[] | undefined;
  /** `undefined` or 0 means MLflow's default of 100. */
  maxResults?: number | undefined;
  orderBy?: readonly OrderByInput[] | undefined;
  pageToken?: string | undefined;
}

export interface LoggedModelPage {
  models: LoggedModelWithMetrics[];
  nextPageToken?: string | undefined;
}

export interface LoggedModelServiceDeps {
  models: LoggedModelRepository;
  /** Resolves the experiment a model is created in (existence, stage, artifact location). */
  experiments: ExperimentLookup;
  metrics: LinkedMetricsReader;
  clock?: Clock;
  /** @default `m-<uuid4 hex>` */
  newId?: () => string;
  /** @default MLflow's `_generate_random_name()`, which names runs and logged models alike */
  newName?: () => string;
}

/**
 * MLflow 3's logged models: what `mlflow.<flavor>.log_model` creates (PENDING), uploads artifacts
 * to, and finalizes (READY). Validation and MLflow's rules live here; storage and its conditional
 * writes live behind {@link LoggedModelRepository}.
 */
export class LoggedModelService {
  private readonly models: LoggedModelRepository;
  private readonly experiments: ExperimentLookup;
  private readonly metrics: LinkedMetricsReader;
  private readonly clock: Clock;
  private readonly newId: () => string;
  private readonly newName: () => string;

  constructor(deps: LoggedModelServiceDeps) {
    this.models = deps.models;
    this.experiments = deps.experiments;
    this.metrics = deps.metrics;
    this.clock = deps.clock ?? systemClock;
    this.newId = deps.newId ?? newModelId;
    this.newName = deps.newName ?? randomRunName;
  }

  async create(input: CreateLoggedModelInput): Promise<LoggedModelWithMetrics> {
    // An empty name means "none" (protobuf cannot tell them apart); MLflow then makes one up.
    if (input.name) validateLoggedModelName(input.name);
    validateLength('Model type', input.modelType ?? '', LOGGED_MODEL_LIMITS.modelType);
    validateLength('Source run ID', input.sourceRunId ?? '', LOGGED_MODEL_LIMITS.sourceRunId);
    const params = validateEntries('Param', input.params ?? [], LOGGED_MODEL_LIMITS.paramValue);
    const tags = validateEntries('Tag', input.tags ?? [], LOGGED_MODEL_LIMITS.tagValue);

    const experiment = await this.experiments.get(input.experimentId);
    if (experiment.lifecycleStage !== 'active') {
      throw new InvalidParameterError(
        `The experiment ${experiment.experimentId} must be in the 'active' state. Current state is ${experiment.lifecycleStage}.`,
      );
    }
    const modelId = this.newId();
    const now = this.clock.now();
    const model: LoggedModel = {
      modelId,
      experimentId: experiment.experimentId,
      name: input.name || this.newName(),
      artifactLocation: modelArtifactLocation(experiment.artifactLocation, modelId),
      creationTimestamp: now,
      lastUpdatedTimestamp: now,
      status: 'LOGGED_MODEL_PENDING',
      modelType: input.modelType ?? '',
      sourceRunId: input.sourceRunId ?? '',
      lifecycleStage: 'active',
      tags,
      params,
    };
    await this.models.create(model);
    return { ...model, metrics: [] };
  }

  /** A model; deleted ones only with `allowDeleted` (MLflow's `allow_deleted=true`). */
  async get(modelId: string, options: { allowDeleted?: boolean } = {}): Promise<LoggedModelWithMetrics> {
    return this.withMetrics(await this.read(modelId, options));
  }

  async finalize(modelId: string, status: LoggedModelStatus): Promise<LoggedModelWithMetrics> {
    if (!FINAL_STATUSES.includes(status)) {
      throw new InvalidParameterError(
        `Invalid value ${status} for parameter 'status' supplied: a logged model is finalized as ${FINAL_STATUSES.join(' or ')}`,
      );
    }
    const model = isModelId(modelId)
      ? await this.models.finalize(modelId, status, this.clock.now())
      : undefined;
    if (!model) throw notFound(modelId);
    return this.withMetrics(model);
  }

  /** Marks the model deleted. Deleting it again is fine, so a retried request succeeds. */
  async delete(modelId: string): Promise<void> {
    if (!isModelId(modelId) || !(await this.models.markDeleted(modelId, this.clock.now()))) {
      throw notFound(modelId);
    }
  }

  async setTags(modelId: string, tags: readonly KeyValue[]): Promise<void> {
    // Within one request the last value of a key wins, as MLflow's per-tag upserts.
    const merged = Object.fromEntries(tags.map(({ key, value }) => [key, value]));
    validateEntries(
      'Tag',
      Object.entries(merged).map(([key, value]) => ({ key, value })),
      LOGGED_MODEL_LIMITS.tagValue,
    );
    if (Object.keys(merged).length === 0) {
      await this.read(modelId);
      return;
    }
    if (!isModelId(modelId) || !(await this.models.setTags(modelId, merged))) throw notFound(modelId);
  }

  async deleteTag(modelId: string, key: string): Promise<void> {
    const result = isModelId(modelId) ? await this.models.deleteTag(modelId, key) : 'no-model';
    if (result === 'no-model') throw notFound(modelId);
    if (result === 'no-tag') {
      throw new ResourceDoesNotExistError(`No tag with key '${key}' found for model with ID '${modelId}'.`);
    }
  }

  /**
   * Logs params. They are write-once: logging the same value again is a no-op (so a retried
   * request succeeds), another value is 400. MLflow's SQL store refuses any key logged twice.
   */
  async logParams(modelId: string, params: readonly KeyValue[]): Promise<void> {
    const wanted = validateEntries('Param', params, LOGGED_MODEL_LIMITS.paramValue);
    const model = await this.read(modelId);
    this.refuseChanges(model, wanted);
    const missing = Object.entries(wanted)
      .filter(([key]) => !Object.hasOwn(model.params, key))
      .map(([key, value]) => ({ key, value }));
    if (missing.length === 0) return;
    const result = await this.models.addParams(modelId, missing);
    if (result === 'no-model') throw notFound(modelId);
    if (result === 'conflict') {
      // A concurrent writer stored another value first: explain with what is there now.
      this.refuseChanges(await this.read(modelId), wanted);
      throw new InvalidParameterError(`Params of logged model ${modelId} were changed concurrently; retry`);
    }
  }

  /**
   * Searches the active models of some experiments. Each experiment is one GSI1 Query; linked
   * metrics are read once for all candidates when the filter or order needs them, else for the
   * page only.
   */
  async search(input: SearchLoggedModelsInput): Promise<LoggedModelPage> {
    const maxResults = input.maxResults || LOGGED_MODEL_LIMITS.searchDefaultMaxResults;
    if (maxResults < 1 || maxResults > LOGGED_MODEL_LIMITS.searchMaxResults) {
      throw new InvalidParameterError(
        `Invalid value ${maxResults} for parameter 'max_results' supplied: it must be between 1 and ${LOGGED_MODEL_LIMITS.searchMaxResults}`,
      );
    }
    const datasets = input.datasets ?? [];
    const clauses = parseLoggedModelFilter(input.filter);
    const terms = parseLoggedModelOrderBy(input.orderBy);
    const experimentIds = [...new Set(input.experimentIds)];
    const fingerprint = queryFingerprint([experimentIds, clauses, datasets, terms]);
    // Decode before reading the table, so a bad token costs no read.
    decodePageToken(input.pageToken, fingerprint);

    const candidates = (await Promise.all(experimentIds.map((id) => this.models.listActive(id)))).flat();
    const needsMetrics = readsMetrics(clauses, terms, datasets);
    const withMetrics = needsMetrics
      ? await this.attachMetrics(candidates)
      : candidates.map((model) => ({ ...model, metrics: [] }));
    const matches = compileLoggedModelFilter(clauses, datasets);
    const sorted = sortLoggedModels(withMetrics.filter(matches), terms);
    const page = paginate(sorted, input.pageToken, maxResults, fingerprint);
    return {
      models: needsMetrics ? page.items : await this.attachMetrics(page.items),
      nextPageToken: page.nextPageToken,
    };
  }

  /** The stored model (no linked metrics), or the 404 MLflow answers for a missing or deleted one. */
  private async read(modelId: string, options: { allowDeleted?: boolean } = {}): Promise<LoggedModel> {
    const model = isModelId(modelId) ? await this.models.get(modelId) : undefined;
    if (!model || (model.lifecycleStage !== 'active' && !options.allowDeleted)) throw notFound(modelId);
    return model;
  }

  private refuseChanges(model: LoggedModel, wanted: Record<string, string>): void {
    for (const [key, value] of Object.entries(wanted)) {
      const stored = model.params[key];
      if (stored !== undefined && stored !== value) {
        throw new InvalidParameterError(
          `Changing param values is not allowed. Param with key='${key}' was already logged with value='${stored.slice(0, 250)}' for logged model ID '${model.modelId}'. Attempted logging new value '${value.slice(0, 250)}'.`,
        );
      }
    }
  }

  private async withMetrics(model: LoggedModel): Promise<LoggedModelWithMetrics> {
    const [one] = await this.attachMetrics([model]);
    return one ?? { ...model, metrics: [] };
  }

  private async attachMetrics(models: readonly LoggedModel[]): Promise<LoggedModelWithMetrics[]> {
    if (models.length === 0) return [];
    const metrics = await this.metrics.metricsOf(models);
    return models.map((model) => ({ ...model, metrics: metrics.get(model.modelId) ?? [] }));
  }
}

function notFound(modelId: string): ResourceDoesNotExistError {
  return new ResourceDoesNotExistError(`Logged model with ID '${modelId.slice(0, 250)}' not found.`);
}
