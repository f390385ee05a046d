import type { Experiment } from '../model.ts';

/** MLflow's `Experiment` message in protobuf JSON: empty lists are left out, ids are strings. */
export interface ExperimentWire {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  last_update_time: number;
  creation_time: number;
  tags?: Array<{ key: string; value: string }>;
}

export function experimentToWire(experiment: Experiment): ExperimentWire {
  const tags = Object.entries(experiment.tags).map(([key, value]) => ({ key, value }));
  return {
    experiment_id: experiment.experimentId,
    name: experiment.name,
    artifact_location: experiment.artifactLocation,
    lifecycle_stage: experiment.lifecycleStage,
    last_update_time: experiment.lastUpdateTime,
    creation_time: experiment.creationTime,
    ...(tags.length > 0 ? { tags } : {}),
  };
}
