import { InvalidParameterError, InvalidStateError, ResourceDoesNotExistError } from '../platform/errors.ts';
import {
  DEFAULT_EXPERIMENT_ID,
  DEFAULT_EXPERIMENT_NAME,
  type Experiment,
  LIMITS,
  type ViewType,
  validateExperimentName,
  validateLength,
  validateTagKey,
} from './model.ts';
import type { Clock, ExperimentRepository } from './ports.ts';
import { systemClock } from './ports.ts';
import {
  compileFilter,
  decodePageToken,
  paginate,
  parseOrderBy,
  parseSearchFilter,
  queryFingerprint,
  type SearchableEntity,
  sortEntities,
} from './search/index.ts';

export interface CreateExperimentInput {
  name: string;
  artifactLocation?: string | undefined;
  tags?: ReadonlyArray<{ key: string; value: string }> | undefined;
}

export interface SearchExperimentsInput {
  maxResults: number;
  pageToken?: string | undefined;
  filter?: string | undefined;
  orderBy?: string[] | undefined;
  viewType?: ViewType | undefined;
}

export interface ExperimentPage {
  experiments: Experiment[];
  nextPageToken?: string | undefined;
}

export interface ExperimentServiceDeps {
  experiments: ExperimentRepository;
  /** The root under which experiments without an explicit location store artifacts. */
  defaultArtifactRoot: string;
  clock?: Clock;
  /** Called after an experiment is deleted or restored (its runs follow, as in MLflow). */
  onLifecycleChange?: (experimentId: string, stage: 'active' | 'deleted') => Promise<void>;
}

/**
 * MLflow's experiment operations. Validation and lifecycle rules live here; storage and its
 * concurrency guarantees live behind the `ExperimentRepository` port.
 */
export class ExperimentService {
  private readonly experiments: ExperimentRepository;
  private readonly clock: Clock;
  private readonly defaultArtifactRoot: string;
  private defaultExperiment: Promise<void> | undefined;
  private readonly onLifecycleChange: NonNullable<ExperimentServiceDeps['onLifecycleChange']>;

  constructor(deps: ExperimentServiceDeps) {
    this.onLifecycleChange = deps.onLifecycleChange ?? (async () => undefined);
    this.experiments = deps.experiments;
    this.clock = deps.clock ?? systemClock;
    this.defaultArtifactRoot = deps.defaultArtifactRoot.replace(/\/+$/, '');
  }

  async create(input: CreateExperimentInput): Promise<string> {
    const name = validateExperimentName(input.name);
    const tags = validateTags(input.tags ?? []);
    if (input.artifactLocation) validateArtifactLocation(input.artifactLocation);
    await this.ensureDefaultExperiment();
    const experimentId = await this.experiments.allocateId();
    const now = this.clock.now();
    await this.experiments.create({
      experimentId,
      name,
      artifactLocation: input.artifactLocation || this.artifactLocationFor(experimentId),
      lifecycleStage: 'active',
      creationTime: now,
      lastUpdateTime: now,
      tags,
    });
    return experimentId;
  }

  async get(experimentId: string): Promise<Experiment> {
    validateExperimentId(experimentId);
    await this.ensureDefaultExperiment();
    const experiment = await this.experiments.get(experimentId);
    if (!experiment) throw notFound(experimentId);
    return experiment;
  }

  async getByName(name: string): Promise<Experiment> {
    await this.ensureDefaultExperiment();
    const experiment = await this.experiments.getByName(name);
    if (!experiment) {
      throw new ResourceDoesNotExistError(`Could not find experiment with name '${name}'`);
    }
    return experiment;
  }

  async search(input: SearchExperimentsInput): Promise<ExperimentPage> {
    if (input.maxResults < 1 || input.maxResults > LIMITS.searchMaxResults) {
      throw new InvalidParameterError(
        `Invalid value ${input.maxResults} for parameter 'max_results' supplied: it must be between 1 and ${LIMITS.searchMaxResults}`,
      );
    }
    const viewType = input.viewType ?? 'ACTIVE_ONLY';
    const matches = compileFilter(parseSearchFilter(input.filter, 'experiments'));
    const order = parseOrderBy(input.orderBy, 'experiments');
    const fingerprint = queryFingerprint([input.filter ?? '', input.orderBy ?? [], viewType]);
    // Decode before reading the table, so a bad token costs no read.
    decodePageToken(input.pageToken, fingerprint);

    await this.ensureDefaultExperiment();
    const candidates = (await this.experiments.list()).filter(
      (experiment) => inView(experiment, viewType) && matches(searchable(experiment)),
    );
    const sorted = sortEntities(candidates, searchable, order, 'experiments');
    const page = paginate(sorted, input.pageToken, input.maxResults, fingerprint);
    return { experiments: page.items, nextPageToken: page.nextPageToken };
  }

  async rename(experimentId: string, newName: string): Promise<void> {
    validateExperimentName(newName);
    const experiment = await this.get(experimentId);
    if (experiment.lifecycleStage !== 'active') {
      // MLflow answers 500 INVALID_STATE here; it is the client's mistake, so a 4xx.
      throw new InvalidStateError(
        `Cannot rename a non-active experiment ${experimentId} (its stage is '${experiment.lifecycleStage}')`,
      );
    }
    if (newName === experiment.name) return;
    await this.experiments.rename(experiment, newName, this.clock.now());
  }

  async delete(experimentId: string): Promise<void> {
    validateExperimentId(experimentId);
    if (experimentId === DEFAULT_EXPERIMENT_ID) {
      throw new InvalidParameterError('Cannot delete the default experiment (id 0)');
    }
    await this.ensureDefaultExperiment();
    if (!(await this.experiments.transition(experimentId, 'active', 'deleted', this.clock.now()))) {
      throw new ResourceDoesNotExistError(`No active experiment with id ${experimentId}`);
    }
    await this.onLifecycleChange(experimentId, 'deleted');
  }

  async restore(experimentId: string): Promise<void> {
    validateExperimentId(experimentId);
    await this.ensureDefaultExperiment();
    if (!(await this.experiments.transition(experimentId, 'deleted', 'active', this.clock.now()))) {
      throw new ResourceDoesNotExistError(`No deleted experiment with id ${experimentId}`);
    }
    await this.onLifecycleChange(experimentId, 'active');
  }

  async setTag(experimentId: string, key: string, value: string): Promise<void> {
    validateExperimentId(experimentId);
    validateTags([{ key, value }]);
    await this.ensureDefaultExperiment();
    if (!(await this.experiments.setTag(experimentId, key, value))) await this.explainInactive(experimentId);
  }

  async deleteTag(experimentId: string, key: string): Promise<void> {
    validateExperimentId(experimentId);
    await this.ensureDefaultExperiment();
    if (await this.experiments.deleteTag(experimentId, key)) return;
    const experiment = await this.experiments.get(experimentId);
    if (experiment?.lifecycleStage !== 'active') await this.explainInactive(experimentId);
    // MLflow 3's stores answer a missing tag with 404, unlike the registry's tags.
    throw new ResourceDoesNotExistError(
      `No tag with name: ${key.slice(0, 250)} in experiment with id ${experimentId}`,
    );
  }

  /** The artifact location MLflow's server gives an experiment under its default root. */
  artifactLocationFor(experimentId: string): string {
    return `${this.defaultArtifactRoot}/${experimentId}`;
  }

  /**
   * MLflow's stores create the experiment "Default" (id 0) before anything else, and clients rely on
   * it (`mlflow.start_run()` without an experiment). Runway creates it on first use, once per
   * container; the repository's conditional writes make concurrent first uses safe.
   */
  private ensureDefaultExperiment(): Promise<void> {
    this.defaultExperiment ??= this.createDefaultExperiment().catch((error: unknown) => {
      this.defaultExperiment = undefined;
      throw error;
    });
    return this.defaultExperiment;
  }

  private async createDefaultExperiment(): Promise<void> {
    if (await this.experiments.get(DEFAULT_EXPERIMENT_ID)) return;
    const now = this.clock.now();
    try {
      await this.experiments.create({
        experimentId: DEFAULT_EXPERIMENT_ID,
        name: DEFAULT_EXPERIMENT_NAME,
        artifactLocation: this.artifactLocationFor(DEFAULT_EXPERIMENT_ID),
        lifecycleStage: 'active',
        creationTime: now,
        lastUpdateTime: now,
        tags: {},
      });
    } catch (error) {
      // Another container created it first.
      if (!(await this.experiments.get(DEFAULT_EXPERIMENT_ID))) throw error;
    }
  }

  private async explainInactive(experimentId: string): Promise<never> {
    const experiment = await this.experiments.get(experimentId);
    if (!experiment) throw notFound(experimentId);
    throw new InvalidParameterError(
      `The experiment ${experimentId} must be in the 'active' state. Current state is ${experiment.lifecycleStage}.`,
    );
  }
}

function validateTags(tags: ReadonlyArray<{ key: string; value: string }>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key, value } of tags) {
    validateTagKey(key, LIMITS.experimentTagKey);
    validateLength('Tag value', value, LIMITS.experimentTagValue);
    out[key] = value;
  }
  return out;
}

/**
 * MLflow 3.11's `_get_experiment`: an experiment id is an integer (`experiments/get?experiment_id=abc`
 * is 400; MLflow 2.22 answered 404).
 */
function validateExperimentId(experimentId: string): void {
  if (!/^\s*[+-]?\d+\s*$/.test(experimentId)) {
    throw new InvalidParameterError(
      `Invalid experiment ID '${experimentId.slice(0, 250)}'. Experiment ID must be a valid integer.`,
    );
  }
}

/** Python's `urllib.parse` schemes whose last path segment may carry `;params`. */
const SCHEMES_WITH_PARAMS = new Set([
  '',
  'ftp',
  'hdl',
  'prospero',
  'http',
  'imap',
  'https',
  'shttp',
  'rtsp',
  'rtspu',
  'sip',
  'sips',
  'mms',
  'sftp',
  'tel',
]);

/**
 * MLflow 3.11's `_validate_artifact_root_uri` for `experiments/create`: no URL fragment or params, no
 * `..` in the query (decoded), not a `runs:/` URI, at most 2048 characters.
 */
function validateArtifactLocation(location: string): void {
  const invalid = (why: string) =>
    new InvalidParameterError(
      `Invalid value '${location.slice(0, 250)}' for parameter 'artifact_location': ${why}`,
    );
  if (location.length > LIMITS.artifactLocation) {
    throw invalid(`it is longer than ${LIMITS.artifactLocation} characters`);
  }
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(location)?.[1]?.toLowerCase() ?? '';
  const [beforeFragment = '', ...fragment] = location.split('#');
  if (fragment.some((part) => part !== ''))
    throw invalid("'artifact_location' URL can't include fragments or params.");
  const [path = '', ...query] = beforeFragment.split('?');
  const lastSegment = path.slice(path.lastIndexOf('/') + 1);
  const params = lastSegment.includes(';') ? lastSegment.slice(lastSegment.indexOf(';') + 1) : '';
  if (SCHEMES_WITH_PARAMS.has(scheme) && params !== '') {
    throw invalid("'artifact_location' URL can't include fragments or params.");
  }
  if (decodeFully(query.join('?')).includes('..')) throw invalid('Invalid query string');
  if (scheme === 'runs')
    throw invalid(`Artifact location cannot be a runs:/ URI. Given: '${location.slice(0, 250)}'`);
}

/** Percent-decodes until stable (MLflow's `_decode` stops after ten rounds). */
function decodeFully(text: string): string {
  let current = text;
  for (let round = 0; round < 10; round++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      return current;
    }
    if (next === current) return current;
    current = next;
  }
  return current;
}

function notFound(experimentId: string): ResourceDoesNotExistError {
  return new ResourceDoesNotExistError(`No Experiment with id=${experimentId} exists`);
}

function inView(experiment: Experiment, viewType: ViewType): boolean {
  if (viewType === 'ALL') return true;
  return viewType === 'ACTIVE_ONLY'
    ? experiment.lifecycleStage === 'active'
    : experiment.lifecycleStage === 'deleted';
}

/** Exposes an experiment to the search grammar's evaluator. */
function searchable(experiment: Experiment): SearchableEntity {
  return {
    attribute: (key) => {
      switch (key) {
        case 'name':
          return experiment.name;
        case 'experiment_id':
          // Numeric, so order_by=experiment_id sorts 2 before 10 as MLflow's integer column does.
          return Number(experiment.experimentId);
        case 'creation_time':
          return experiment.creationTime;
        case 'last_update_time':
          return experiment.lastUpdateTime;
        case 'lifecycle_stage':
          return experiment.lifecycleStage;
        default:
          return undefined;
      }
    },
    tag: (key) => experiment.tags[key],
  };
}
