import type { ModelVersion, RegisteredModel } from '../model.ts';

/**
 * MLflow's `ModelVersion` message in protobuf JSON (model_registry.proto): `version` is a string,
 * timestamps are numbers, empty lists are left out. As MLflow's server stores them, `description`,
 * `run_id` and `run_link` are present (possibly "") unless cleared, and `status` is always READY.
 */
export interface ModelVersionWire {
  name: string;
  version: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  description?: string;
  current_stage: string;
  source: string;
  run_id: string;
  run_link: string;
  status: 'READY';
  tags?: Array<{ key: string; value: string }>;
  aliases?: string[];
}

/** MLflow's `RegisteredModel` message: an empty description is left out, as MLflow's `to_proto` does. */
export interface RegisteredModelWire {
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  description?: string;
  latest_versions?: ModelVersionWire[];
  tags?: Array<{ key: string; value: string }>;
  aliases?: Array<{ alias: string; version: string }>;
}

export function modelVersionToWire(version: ModelVersion): ModelVersionWire {
  const tags = tagsToWire(version.tags);
  return {
    name: version.name,
    version: String(version.version),
    creation_timestamp: version.creationTimestamp,
    last_updated_timestamp: version.lastUpdatedTimestamp,
    ...(version.description !== undefined ? { description: version.description } : {}),
    current_stage: version.currentStage,
    source: version.source,
    run_id: version.runId,
    run_link: version.runLink,
    status: version.status,
    ...(tags.length > 0 ? { tags } : {}),
    ...(version.aliases.length > 0 ? { aliases: version.aliases } : {}),
  };
}

export function registeredModelToWire(model: RegisteredModel): RegisteredModelWire {
  const tags = tagsToWire(model.tags);
  const aliases = Object.entries(model.aliases).map(([alias, version]) => ({
    alias,
    version: String(version),
  }));
  return {
    name: model.name,
    creation_timestamp: model.creationTimestamp,
    last_updated_timestamp: model.lastUpdatedTimestamp,
    ...(model.description ? { description: model.description } : {}),
    ...(model.latestVersions.length > 0
      ? { latest_versions: model.latestVersions.map(modelVersionToWire) }
      : {}),
    ...(tags.length > 0 ? { tags } : {}),
    ...(aliases.length > 0 ? { aliases } : {}),
  };
}

function tagsToWire(tags: Record<string, string>): Array<{ key: string; value: string }> {
  return Object.entries(tags).map(([key, value]) => ({ key, value }));
}
