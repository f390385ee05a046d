import { logger } from '../../platform/logger.ts';
import { DynamoLoggedModelRepository } from '../../tracking/logged-models/adapters/logged-model.dynamodb-repository.ts';
import type { LoggedModelRepository } from '../../tracking/logged-models/ports.ts';
import type { LoggedModelRef, LoggedModelSource } from '../ports.ts';
import { pythonJsonDumps } from '../webhooks/python-json.ts';

/** MLflow's tag on a logged model listing the registry versions made from it (`mlflow_tags.py`). */
export const MODEL_VERSIONS_TAG = 'mlflow.modelVersions';

/** Compare-and-set rounds before giving up on a tag that keeps changing under us. */
const MAX_ATTEMPTS = 10;

/**
 * Logged models in the tracking table, read and linked through the tracking context's own repository
 * (one GetItem; one conditional UpdateItem of the tag). The registry function may read the tracking
 * table and update `LM#` items only (`infra/stacks/api.stack.ts`).
 */
export class DynamoLoggedModelSource implements LoggedModelSource {
  private readonly models: Pick<LoggedModelRepository, 'get' | 'replaceTag'>;

  constructor(trackingTableName: string, models?: Pick<LoggedModelRepository, 'get' | 'replaceTag'>) {
    this.models = models ?? new DynamoLoggedModelRepository(trackingTableName);
  }

  async get(modelId: string): Promise<LoggedModelRef | undefined> {
    const model = await this.models.get(modelId);
    if (model?.lifecycleStage !== 'active') return undefined;
    const { experimentId, artifactLocation, sourceRunId } = model;
    return { modelId: model.modelId, experimentId, artifactLocation, sourceRunId };
  }

  /**
   * MLflow's `set_model_versions_tags`: the tag is a JSON list written by Python's `json.dumps`
   * (`[{"name": "churn", "version": 1}]`; the server writes the version as a number, and MLflow's
   * client then appends the same version as a string). An entry already listed is not added twice.
   * The tag is replaced only if nobody changed it since it was read, so concurrent registrations of
   * one model each keep their entry.
   */
  async linkVersion(modelId: string, name: string, version: number): Promise<void> {
    const entry = { name, version };
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const model = await this.models.get(modelId);
      if (model?.lifecycleStage !== 'active') return;
      const current = model.tags[MODEL_VERSIONS_TAG];
      const listed = readVersionList(current);
      if (listed.some((item) => item.name === name && item.version === version)) return;
      const next = pythonJsonDumps([...listed, entry]);
      const outcome = await this.models.replaceTag(modelId, MODEL_VERSIONS_TAG, current, next);
      if (outcome !== 'changed') return;
    }
    logger.warn(
      'The mlflow.modelVersions tag kept changing; this version is not listed on the logged model',
      {
        modelId,
        name,
        version,
      },
    );
  }
}

type VersionEntry = { name: string; version: string | number };

/**
 * The entries of a `mlflow.modelVersions` value. Entries of another shape, and a value that is not a
 * JSON list at all (MLflow's server would fail the registration on it), are dropped: the tag is
 * MLflow's own, and what it must keep is the versions it lists.
 */
function readVersionList(value: string | undefined): VersionEntry[] {
  if (value === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.filter(
    (item): item is VersionEntry =>
      typeof item === 'object' &&
      item !== null &&
      typeof item.name === 'string' &&
      (typeof item.version === 'string' || Number.isSafeInteger(item.version)) &&
      Object.keys(item).length === 2,
  );
}
