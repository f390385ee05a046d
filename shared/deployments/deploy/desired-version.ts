import { versionFilesLocation } from '../../registry/model-source.ts';
import type { ModelState } from '../../registry/ports.ts';
import type { Follows } from '../model.ts';

/** What the registry says an endpoint following `follows` should serve, and the change that said so. */
export interface DesiredVersion {
  version: string;
  /** The model version's files as the registry stores them (`mlflow-artifacts:/...`, `s3://...`). */
  storageLocation: string;
  /**
   * Identifies the registry change that made `version` the desired one (model id, what moved, when):
   * the same for the event that announced it and for the reconciler that reads it later.
   */
  changeKey: string;
}

/**
 * The version an alias points to, or the latest version in a stage (the highest number, as MLflow's
 * `models:/<name>/<stage>` resolves it). Aliases and stage entries of deleted versions count as absent.
 * `undefined` when nothing is desired: an alias that does not exist (deleting an alias does not
 * undeploy), or an empty stage.
 */
export function desiredVersion(state: ModelState, follows: Follows): DesiredVersion | undefined {
  const { model } = state;
  const live = new Map(state.versions.map((version) => [version.version, version]));
  if ('alias' in follows) {
    const alias = state.aliases.find((candidate) => candidate.alias === follows.alias);
    const version = alias && live.get(alias.version);
    if (!alias || !version) return undefined;
    return {
      version: String(version.version),
      storageLocation: versionFilesLocation(version),
      changeKey: `${model.modelId}:alias:${alias.alias}:v${version.version}@${alias.updatedAt}`,
    };
  }
  let latest: { number: number; at: number } | undefined;
  for (const [number, entry] of Object.entries(model.stages)) {
    const n = Number(number);
    if (entry.stage !== follows.stage || !live.has(n)) continue;
    if (!latest || n > latest.number) latest = { number: n, at: entry.at };
  }
  const version = latest && live.get(latest.number);
  if (!latest || !version) return undefined;
  return {
    version: String(version.version),
    storageLocation: versionFilesLocation(version),
    changeKey: `${model.modelId}:stage:${follows.stage}:v${version.version}@${latest.at}`,
  };
}

/** Whether a registry event can change what an endpoint following `follows` should serve. */
export function eventConcerns(
  follows: Follows,
  event: { alias: string } | { stage: string; previousStage: string },
): boolean {
  if ('alias' in follows) return 'alias' in event && event.alias === follows.alias;
  if (!('stage' in event)) return false;
  // Entering the stage (archiving the others with it) or leaving it both move its latest version.
  return event.stage === follows.stage || event.previousStage === follows.stage;
}
