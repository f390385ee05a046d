import { randomUUID } from 'node:crypto';
import { InvalidParameterError, ResourceDoesNotExistError } from '../platform/errors.ts';
import type { ExperimentService } from './experiment.service.ts';
import { valueDigest } from './keys.ts';
import type { ViewType } from './model.ts';
import type { RunDataChange, RunFields, RunRepository, RunWriteState, StoredValue } from './ports.ts';
import {
  type DatasetInput,
  isLaterMetric,
  LOG_MODEL_HISTORY_TAG,
  type Metric,
  type ModelOutput,
  type Param,
  RUN_LIMITS,
  RUN_NAME_TAG,
  type Run,
  type RunInfo,
  type RunStatus,
  type RunTag,
  runNameOf,
  validateDatasetInput,
  validateMetric,
  validateParam,
  validateRunId,
  validateRunTag,
} from './run.model.ts';
import { readIndexedCandidates } from './run-index-search.ts';
import { randomRunName } from './run-names.ts';
import {
  type Clause,
  compileFilter,
  type DatasetSummary,
  decodePageToken,
  type OrderTerm,
  paginate,
  parseOrderBy,
  parseSearchFilter,
  queryFingerprint,
  type SearchableEntity,
  sortEntities,
} from './search/index.ts';
import { planRunSearch } from './search/run-search-plan.ts';

export interface CreateRunInput {
  experimentId?: string | undefined;
  userId?: string | undefined;
  startTime?: number | undefined;
  runName?: string | undefined;
  tags?: RunTag[] | undefined;
}

export interface LogBatchInput {
  runId: string;
  metrics?: Metric[] | undefined;
  params?: Param[] | undefined;
  tags?: RunTag[] | undefined;
}

export interface SearchRunsInput {
  experimentIds: string[];
  filter?: string | undefined;
  viewType?: ViewType | undefined;
  maxResults?: number | undefined;
  orderBy?: string[] | undefined;
  pageToken?: string | undefined;
}

/** Pages up to this size (offset included) are read as projections first, then one BatchGetItem. */
const SMALL_PAGE = 100;

/** How many times a run's data write is retried when concurrent writers race for its item. */
const MAX_WRITE_ATTEMPTS = 25;

/**
 * MLflow's run operations: lifecycle, logging (params write-once, metrics append-only, tags
 * overwrite), inputs, search and metric history. A batch is validated whole before anything is
 * written, so one bad entry writes nothing.
 */
export class RunService {
  constructor(
    private readonly runs: RunRepository,
    /** The experiment service (not its repository), so the default experiment exists before use. */
    private readonly experiments: Pick<ExperimentService, 'get'>,
  ) {}

  async create(input: CreateRunInput): Promise<Run> {
    const experimentId = input.experimentId || '0';
    const experiment = await this.experiments.get(experimentId);
    if (experiment.lifecycleStage !== 'active') {
      throw new InvalidParameterError(
        `The experiment ${experimentId} must be in the 'active' state. Current state is ${experiment.lifecycleStage}.`,
      );
    }
    const tags = (input.tags ?? []).map(validateRunTag);
    const tagName = tags.find((tag) => tag.key === RUN_NAME_TAG)?.value;
    if (input.runName && tagName !== undefined && tagName !== input.runName) {
      throw new InvalidParameterError(
        `Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${input.runName}', mlflow.runName='${tagName}').`,
      );
    }
    const runName = input.runName || tagName || randomRunName();
    const runId = randomUUID().replaceAll('-', '');
    const info: RunInfo = {
      runId,
      experimentId,
      userId: input.userId ?? '',
      status: 'RUNNING',
      startTime: input.startTime ?? 0,
      artifactUri: `${experiment.artifactLocation.replace(/\/+$/, '')}/${runId}/artifacts`,
      lifecycleStage: 'active',
    };
    const allTags = dedupeTags([
      ...tags.filter((tag) => tag.key !== RUN_NAME_TAG),
      { key: RUN_NAME_TAG, value: runName },
    ]);
    await this.runs.create(info, allTags);
    return { info, metrics: [], params: [], tags: allTags, inputs: [], modelInputs: [], outputs: [] };
  }

  async get(runId: string): Promise<Run> {
    return this.load(runId);
  }

  async update(input: {
    runId: string;
    status?: RunStatus | undefined;
    endTime?: number | undefined;
    runName?: string | undefined;
  }): Promise<Run> {
    const run = await this.loadActive(input.runId);
    await this.runs.updateInfo(input.runId, run.info.experimentId, {
      status: input.status,
      endTime: input.endTime,
    });
    if (input.runName)
      await this.logBatch({ runId: input.runId, tags: [{ key: RUN_NAME_TAG, value: input.runName }] });
    const tags = input.runName ? replaceTag(run.tags, { key: RUN_NAME_TAG, value: input.runName }) : run.tags;
    return {
      ...run,
      tags,
      info: {
        ...run.info,
        ...(input.status ? { status: input.status } : {}),
        ...(input.endTime !== undefined ? { endTime: input.endTime } : {}),
      },
    };
  }

  /** Deleting a deleted run and restoring an active one are fine, as in MLflow. */
  async setLifecycle(runId: string, stage: 'active' | 'deleted'): Promise<void> {
    const run = await this.load(runId);
    await this.runs.setLifecycle(runId, run.info.experimentId, stage);
  }

  /**
   * Deleting or restoring an experiment deletes or restores its runs, as MLflow's SQL store does.
   * Bounded parallelism keeps a large experiment within the table's write capacity.
   */
  async setExperimentRunsLifecycle(experimentId: string, stage: 'active' | 'deleted'): Promise<void> {
    const runs = await this.runs.listByExperiment(experimentId);
    for (let i = 0; i < runs.length; i += 16) {
      await Promise.all(
        runs.slice(i, i + 16).map((run) => this.runs.setLifecycle(run.info.runId, experimentId, stage)),
      );
    }
  }

  async logBatch(input: LogBatchInput): Promise<void> {
    const metrics = (input.metrics ?? []).map(validateMetric);
    const params = (input.params ?? []).map(validateParam);
    const tags = (input.tags ?? []).map(validateRunTag);
    checkBatchLimits(metrics.length, params.length, tags.length);
    const [metric] = metrics;
    if (metric && metrics.length === 1 && params.length === 0 && tags.length === 0) {
      return this.logPoint(validateRunId(input.runId), metric);
    }
    const duplicates = params.map((param) => param.key).filter((key, i, keys) => keys.indexOf(key) !== i);
    if (duplicates.length > 0) {
      throw new InvalidParameterError(
        `Duplicate parameter keys have been submitted: ${JSON.stringify([...new Set(duplicates)])}. Please ensure the request contains only one param value per param key.`,
      );
    }
    await this.write(validateRunId(input.runId), params, dedupeTags(tags), metrics);
  }

  /**
   * Merges a validated batch into the run item (params write-once, tags overwrite, the later point
   * of each metric) and appends the points to their histories. Optimistic concurrency: a write that
   * finds the run changed since it read it reads again and merges again. A param conflict writes
   * nothing; so new params are stored before the history, the rest goes in parallel.
   */
  private async write(runId: string, params: Param[], tags: RunTag[], metrics: Metric[]): Promise<void> {
    let state = await this.loadForWrite(runId);
    const experimentId = state.info.experimentId;
    let history: Promise<void> | undefined;
    const appendHistory = () => {
      if (!history && metrics.length > 0) {
        history = this.runs.appendHistory(runId, experimentId, metrics);
        // Awaited below; this only keeps a failure from being reported as unhandled meanwhile.
        history.catch(() => undefined);
      }
    };
    let revision = state.revision;
    for (let attempt = 1; ; attempt++) {
      const conflict = params.find((param) => {
        const stored = state.params.get(param.key);
        return stored !== undefined && !sameValue(stored, param.value);
      });
      if (conflict) {
        // A long stored value is known here by its digest only: read the run for the message.
        const stored = state.params.get(conflict.key);
        const text =
          typeof stored === 'string'
            ? stored
            : (await this.load(runId)).params.find((param) => param.key === conflict.key)?.value;
        throw paramConflict(runId, conflict, text);
      }
      if (params.every((param) => state.params.has(param.key))) appendHistory();
      const change = mergeBatch(state, params, tags, metrics);
      if (!change) break;
      const written = await this.runs.putData(runId, experimentId, change, state);
      if (written !== false) {
        revision = written;
        break;
      }
      if (attempt >= MAX_WRITE_ATTEMPTS) {
        throw new Error(`Could not write the data of run ${runId} after ${MAX_WRITE_ATTEMPTS} attempts`);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      state = await this.loadForWrite(runId);
      revision = state.revision;
    }
    appendHistory();
    // Every param and tag of the request, changed or not, so a retry after a failure mends the index.
    const indexed =
      params.length + tags.length > 0
        ? this.runs.indexValues(runId, experimentId, { params, tags }, revision)
        : undefined;
    await Promise.all([history, indexed]);
  }

  private async loadForWrite(runId: string): Promise<RunWriteState> {
    const state = await this.runs.getForWrite(runId);
    if (!state) throw runNotFound(runId);
    assertActive(state.info);
    return state;
  }

  /**
   * `log-metric` in one round trip: the history point and a conditional update of the latest
   * value, in parallel, with no read first. A deleted or unknown run gets MLflow's answer (400,
   * 404) and loses the point again, if this call created it.
   */
  private async logPoint(runId: string, metric: Metric): Promise<void> {
    const { created, latest } = await this.runs.logPoint(runId, metric);
    if (latest === 'set' || latest === 'not-later') return;
    if (created) await this.runs.removePoint(runId, metric);
    if (latest === 'unknown') throw runNotFound(runId);
    assertActive({ runId, lifecycleStage: 'deleted' });
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    const run = await this.loadActive(runId);
    if (!run.tags.some((tag) => tag.key === key)) {
      throw new ResourceDoesNotExistError(`No tag with name: ${key} in run with id ${runId}`);
    }
    await this.runs.deleteTag(runId, key);
  }

  async logInputs(runId: string, datasets: DatasetInput[], modelIds: string[] = []): Promise<void> {
    if (datasets.length > RUN_LIMITS.datasetsPerBatch) {
      throw new InvalidParameterError(`A request can log at most ${RUN_LIMITS.datasetsPerBatch} datasets`);
    }
    const inputs = datasets.map(validateDatasetInput);
    const run = await this.loadActive(runId);
    if (inputs.length > 0) await this.runs.putInputs(runId, run.info.experimentId, inputs);
    if (modelIds.length > 0) {
      await this.runs.putModelLinks(runId, run.info.experimentId, { inputs: modelIds, outputs: [] });
    }
  }

  /** MLflow 3's `runs/outputs`: the logged models a run produced, at a step. */
  async logOutputs(runId: string, outputs: ModelOutput[]): Promise<void> {
    if (outputs.length > RUN_LIMITS.datasetsPerBatch) {
      throw new InvalidParameterError(
        `A request can log at most ${RUN_LIMITS.datasetsPerBatch} model outputs`,
      );
    }
    const run = await this.loadActive(runId);
    if (outputs.length > 0)
      await this.runs.putModelLinks(runId, run.info.experimentId, { inputs: [], outputs });
  }

  /** MLflow 2's `runs/log-model`: appends the model's metadata to a JSON list in a tag. */
  async logModel(runId: string, modelJson: string): Promise<void> {
    let model: unknown;
    try {
      model = JSON.parse(modelJson);
    } catch {
      throw new InvalidParameterError('model_json must be valid JSON');
    }
    if (!model || typeof model !== 'object' || Array.isArray(model)) {
      throw new InvalidParameterError('model_json must be a JSON object');
    }
    for (const field of ['artifact_path', 'flavors', 'utc_time_created', 'run_id']) {
      if (!(field in model))
        throw new InvalidParameterError(`Model json is missing mandatory fields: ['${field}']`);
    }
    const run = await this.loadActive(runId);
    const current = run.tags.find((tag) => tag.key === LOG_MODEL_HISTORY_TAG)?.value;
    const history = current ? (JSON.parse(current) as unknown[]) : [];
    history.push(model);
    await this.write(runId, [], [{ key: LOG_MODEL_HISTORY_TAG, value: JSON.stringify(history) }], []);
  }

  async search(input: SearchRunsInput): Promise<{ runs: Run[]; nextPageToken?: string | undefined }> {
    const maxResults = input.maxResults ?? RUN_LIMITS.searchDefaultMaxResults;
    if (maxResults < 1 || maxResults > RUN_LIMITS.searchMaxResults) {
      throw new InvalidParameterError(
        `Invalid value ${maxResults} for parameter 'max_results' supplied. It must be at most ${RUN_LIMITS.searchMaxResults}, and at least 1.`,
      );
    }
    const viewType = input.viewType ?? 'ACTIVE_ONLY';
    const clauses = parseSearchFilter(input.filter, 'runs');
    const matches = compileFilter(clauses);
    const order = parseOrderBy(input.orderBy, 'runs');
    const fingerprint = queryFingerprint([
      [...input.experimentIds].sort(),
      input.filter ?? '',
      input.orderBy ?? [],
      viewType,
    ]);
    const { offset } = decodePageToken(input.pageToken, fingerprint);
    const experimentIds = [...new Set(input.experimentIds)];
    const entityOf = entityCache();
    const select = (runs: Run[]) => {
      const candidates = runs.filter((run) => inView(run, viewType) && matches(entityOf(run)));
      return paginate(
        sortEntities(candidates, entityOf, order, 'runs'),
        input.pageToken,
        maxResults,
        fingerprint,
      );
    };
    // A search the index can narrow reads its candidates only (see `planRunSearch`); the same
    // filter, order and token logic then runs over them as over a full read.
    const plan = planRunSearch(clauses, order);
    if (plan) {
      const check = { matches: (run: Run) => inView(run, viewType) && matches(entityOf(run)) };
      // The page's rows in order, and one more to tell whether a next page exists.
      const rows = offset + maxResults + 1;
      const candidates = await readIndexedCandidates(this.runs, experimentIds, plan, check, rows);
      if (candidates) {
        const page = select(candidates);
        return { runs: page.items, nextPageToken: page.nextPageToken };
      }
    }
    // A small page (a top 10, a UI page) filters and orders small projections of the runs, then
    // reads only the page's runs whole; the same filter, order and token logic as the full read.
    const fields = fieldsNamed(clauses, order);
    if (fields && offset + maxResults <= SMALL_PAGE) {
      const projected = await Promise.all(experimentIds.map((id) => this.runs.listFields(id, fields)));
      if (projected.every((runs) => runs !== undefined)) {
        const page = select(projected.flat());
        const whole = new Map(
          (await this.runs.getMany(page.items.map((run) => run.info.runId))).map((run) => [
            run.info.runId,
            run,
          ]),
        );
        return {
          runs: page.items.flatMap((run) => whole.get(run.info.runId) ?? []),
          nextPageToken: page.nextPageToken,
        };
      }
    }
    const perExperiment = await Promise.all(experimentIds.map((id) => this.runs.listByExperiment(id)));
    const page = select(perExperiment.flat());
    return { runs: page.items, nextPageToken: page.nextPageToken };
  }

  /** A page of a metric's history; an unknown run or key is an empty answer, as in MLflow. */
  async metricHistory(input: {
    runId: string;
    key: string;
    maxResults?: number | undefined;
    pageToken?: string | undefined;
  }): Promise<{ metrics: Metric[]; nextPageToken?: string | undefined }> {
    const limit = input.maxResults ?? RUN_LIMITS.historyPage;
    if (limit < 1 || limit > RUN_LIMITS.historyPage) {
      throw new InvalidParameterError(`max_results must be between 1 and ${RUN_LIMITS.historyPage}`);
    }
    validateRunId(input.runId);
    const page = await this.runs.metricHistory(input.runId, input.key, { limit, cursor: input.pageToken });
    return { metrics: page.metrics, nextPageToken: page.cursor };
  }

  /**
   * MLflow's `get-history-bulk-interval`: the points of one metric over several runs at sampled
   * steps (evenly spread over the steps that exist, always keeping each run's first and last).
   * Bounded fan-out: at most 100 runs, one history read each, in parallel.
   */
  async bulkInterval(input: {
    runIds: string[];
    key: string;
    startStep?: number | undefined;
    endStep?: number | undefined;
    maxResults?: number | undefined;
  }): Promise<Array<Metric & { runId: string }>> {
    if (input.runIds.length === 0)
      throw new InvalidParameterError("Missing value for required parameter 'run_ids'.");
    if (input.runIds.length > RUN_LIMITS.bulkRuns) {
      throw new InvalidParameterError(
        `GetMetricHistoryBulkInterval request must specify at most ${RUN_LIMITS.bulkRuns} run_ids. Received ${input.runIds.length} run_ids.`,
      );
    }
    const maxResults = input.maxResults ?? RUN_LIMITS.bulkResultsPerRun;
    if (maxResults < 1 || maxResults > RUN_LIMITS.bulkResultsPerRun) {
      throw new InvalidParameterError(`max_results must be between 1 and ${RUN_LIMITS.bulkResultsPerRun}.`);
    }
    if ((input.startStep === undefined) !== (input.endStep === undefined)) {
      throw new InvalidParameterError(
        'If either start step or end step are specified, both must be specified.',
      );
    }
    if (input.startStep !== undefined && input.endStep !== undefined && input.startStep > input.endStep) {
      throw new InvalidParameterError(
        `end_step must be greater than start_step. Found start_step=${input.startStep} and end_step=${input.endStep}.`,
      );
    }
    input.runIds.forEach(validateRunId);
    const histories = await Promise.all(
      input.runIds.map(async (runId) => ({ runId, points: await this.fullHistory(runId, input.key) })),
    );
    const allSteps = [...new Set(histories.flatMap((h) => h.points.map((p) => p.step)))].sort(
      (a, b) => a - b,
    );
    const start = input.startStep ?? 0;
    const end = input.endStep ?? allSteps[allSteps.length - 1] ?? 0;
    const edges = new Set<number>();
    for (const { points } of histories) {
      if (points.length === 0) continue;
      const steps = points.map((p) => p.step);
      for (const step of [Math.min(...steps), Math.max(...steps)])
        if (step >= start && step <= end) edges.add(step);
    }
    const sampled = new Set([...sampleSteps(start, end, maxResults, allSteps), ...edges]);
    return histories.flatMap(({ runId, points }) =>
      points.filter((point) => sampled.has(point.step)).map((point) => ({ ...point, runId })),
    );
  }

  /** `metrics/get-history-bulk` (the UI's): full histories of one metric for several runs. */
  async historyBulk(runIds: string[], key: string, maxResults: number = RUN_LIMITS.historyPage) {
    if (runIds.length === 0)
      throw new InvalidParameterError('GetMetricHistoryBulk request must specify at least one run_id.');
    if (runIds.length > RUN_LIMITS.bulkRuns) {
      throw new InvalidParameterError(
        `GetMetricHistoryBulk request cannot specify more than ${RUN_LIMITS.bulkRuns} run_ids.`,
      );
    }
    runIds.forEach(validateRunId);
    if (!(maxResults >= 1))
      throw new InvalidParameterError(`max_results must be at least 1, got ${maxResults}`);
    const limit = Math.min(maxResults, RUN_LIMITS.historyPage);
    const out: Array<Metric & { runId: string }> = [];
    for (const runId of [...runIds].sort()) {
      const page = await this.runs.metricHistory(runId, key, { limit });
      const sorted = page.metrics.sort(
        (a, b) => a.timestamp - b.timestamp || a.step - b.step || a.value - b.value,
      );
      out.push(...sorted.map((metric) => ({ ...metric, runId })));
    }
    return out.slice(0, limit);
  }

  private async fullHistory(runId: string, key: string): Promise<Metric[]> {
    const points: Metric[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.runs.metricHistory(runId, key, { limit: RUN_LIMITS.historyPage, cursor });
      points.push(...page.metrics);
      cursor = page.cursor;
    } while (cursor);
    return points;
  }

  private async load(runId: string): Promise<Run> {
    validateRunId(runId);
    const run = await this.runs.get(runId);
    if (!run) throw runNotFound(runId);
    return run;
  }

  private async loadActive(runId: string): Promise<Run> {
    const run = await this.load(runId);
    assertActive(run.info);
    return run;
  }
}

function runNotFound(runId: string): ResourceDoesNotExistError {
  return new ResourceDoesNotExistError(`Run with id=${runId} not found`);
}

/** MLflow: any write to a deleted run is 400 INVALID_PARAMETER_VALUE. */
function assertActive(info: Pick<RunInfo, 'runId' | 'lifecycleStage'>): void {
  if (info.lifecycleStage !== 'active') {
    throw new InvalidParameterError(
      `The run ${info.runId} must be in the 'active' state. Current state is ${info.lifecycleStage}.`,
    );
  }
}

function checkBatchLimits(metrics: number, params: number, tags: number): void {
  const check = (what: string, limit: number, count: number) => {
    if (count > limit) {
      throw new InvalidParameterError(
        `A batch logging request can contain at most ${limit} ${what}. Got ${count} ${what}. Please split up ${what} across multiple requests and try again.`,
      );
    }
  };
  check('metrics', RUN_LIMITS.batchMetrics, metrics);
  check('params', RUN_LIMITS.batchParams, params);
  check('tags', RUN_LIMITS.batchTags, tags);
  check('metrics, params, and tags', RUN_LIMITS.batchEntities, metrics + params + tags);
}

function paramConflict(runId: string, param: Param, stored: string | undefined): InvalidParameterError {
  return new InvalidParameterError(
    `Changing param values is not allowed. Param with key='${param.key}' was already logged with value='${stored}' for run ID='${runId}'. Attempted logging new value '${param.value}'.`,
  );
}

/** The last value of a key wins within one request, as MLflow applies tags in order. */
function dedupeTags(tags: RunTag[]): RunTag[] {
  return [...new Map(tags.map((tag) => [tag.key, tag])).values()];
}

function replaceTag(tags: RunTag[], tag: RunTag): RunTag[] {
  return [...tags.filter((candidate) => candidate.key !== tag.key), tag];
}

/** Whether a stored value (the text, or a long one's digest) is `value`. */
function sameValue(stored: StoredValue | undefined, value: string): boolean {
  if (stored === undefined) return false;
  return typeof stored === 'string' ? stored === value : stored.digest === valueDigest(value);
}

/**
 * The entries a batch changes: new params, tags whose value differs, and points later than the
 * stored latest (MLflow's order; the latest of the batch's own points per key). Undefined when the
 * batch changes nothing.
 */
function mergeBatch(
  state: RunWriteState,
  params: Param[],
  tags: RunTag[],
  metrics: Metric[],
): RunDataChange | undefined {
  const change: RunDataChange = { params: new Map(), tags: new Map(), metrics: new Map() };
  for (const param of params) if (!state.params.has(param.key)) change.params.set(param.key, param.value);
  for (const tag of tags)
    if (!sameValue(state.tags.get(tag.key), tag.value)) change.tags.set(tag.key, tag.value);
  for (const point of metrics) {
    const current = change.metrics.get(point.key) ?? state.metrics.get(point.key);
    if (!current || isLaterMetric(point, current)) {
      change.metrics.set(point.key, {
        key: point.key,
        value: point.value,
        timestamp: point.timestamp,
        step: point.step,
      });
    }
  }
  return change.params.size + change.tags.size + change.metrics.size > 0 ? change : undefined;
}

/**
 * The metrics, params and tags a filter and order name (the run name is a tag); undefined when the
 * filter needs datasets, which only a whole run has.
 */
function fieldsNamed(clauses: readonly Clause[], order: readonly OrderTerm[]): RunFields | undefined {
  const fields = { metrics: new Set<string>(), params: new Set<string>(), tags: new Set<string>() };
  let attributes = false;
  for (const term of [...clauses, ...order]) {
    switch (term.kind) {
      case 'dataset':
        return undefined;
      case 'metric':
        fields.metrics.add(term.key);
        break;
      case 'param':
        fields.params.add(term.key);
        break;
      case 'tag':
        fields.tags.add(term.key);
        break;
      case 'attribute':
        if (term.key === 'run_name') fields.tags.add(RUN_NAME_TAG);
        else attributes = true;
        break;
    }
  }
  return { metrics: [...fields.metrics], params: [...fields.params], tags: [...fields.tags], attributes };
}

function inView(run: Run, viewType: ViewType): boolean {
  if (viewType === 'ALL') return true;
  return viewType === 'ACTIVE_ONLY'
    ? run.info.lifecycleStage === 'active'
    : run.info.lifecycleStage === 'deleted';
}

/** MLflow's `_get_sampled_steps_from_steps`. */
function sampleSteps(start: number, end: number, maxResults: number, allSteps: number[]): number[] {
  const inRange = allSteps.filter((step) => step >= start && step <= end);
  if (inRange.length <= maxResults) return inRange;
  const interval = inRange.length / maxResults;
  const sampled: number[] = [];
  for (let i = 0; i < maxResults; i++) sampled.push(inRange[Math.floor(i * interval)] as number);
  sampled.push(inRange[inRange.length - 1] as number);
  return sampled;
}

/**
 * Exposes a run to the search grammar's evaluator. Its lookups are built on first use, and a search
 * makes one per candidate (`entityCache`): a filtered search of 48 runs had made each run's three
 * maps and five closures three times over.
 */
class SearchableRun implements SearchableEntity {
  private metrics: Map<string, number> | undefined;
  private params: Map<string, string> | undefined;
  private tags: Map<string, string> | undefined;

  constructor(private readonly run: Run) {}

  attribute(key: string): string | number | undefined {
    const { info } = this.run;
    switch (key) {
      case 'run_id':
        return info.runId;
      case 'run_name':
        return runNameOf(this.run);
      case 'status':
        return info.status;
      case 'user_id':
        return info.userId;
      case 'artifact_uri':
        return info.artifactUri;
      case 'start_time':
        return info.startTime;
      case 'end_time':
        return info.endTime;
      case 'lifecycle_stage':
        return info.lifecycleStage;
      case 'experiment_id':
        return info.experimentId;
      default:
        return undefined;
    }
  }

  metric(key: string): number | undefined {
    this.metrics ??= new Map(this.run.metrics.map((metric) => [metric.key, metric.value]));
    return this.metrics.get(key);
  }

  param(key: string): string | undefined {
    this.params ??= new Map(this.run.params.map((param) => [param.key, param.value]));
    return this.params.get(key);
  }

  tag(key: string): string | undefined {
    this.tags ??= new Map(this.run.tags.map((tag) => [tag.key, tag.value]));
    return this.tags.get(key);
  }

  datasets(): DatasetSummary[] {
    return this.run.inputs.map((input) => ({
      name: input.dataset.name,
      digest: input.dataset.digest,
      context: input.tags.find((tag) => tag.key === 'mlflow.data.context')?.value,
    }));
  }
}

/** Each run's searchable view, made once however often a search asks for it. */
function entityCache(): (run: Run) => SearchableEntity {
  const entities = new WeakMap<Run, SearchableEntity>();
  return (run) => {
    let entity = entities.get(run);
    if (!entity) {
      entity = new SearchableRun(run);
      entities.set(run, entity);
    }
    return entity;
  };
}
