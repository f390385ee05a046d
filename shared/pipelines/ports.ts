import type { RegistryService } from '../registry/registry.service.ts';
import type { ArtifactStore } from '../tracking/artifacts/ports.ts';
import type { ExperimentService } from '../tracking/experiment.service.ts';
import type { LoggedModelService } from '../tracking/logged-models/logged-model.service.ts';
import type { RunService } from '../tracking/run.service.ts';

/** Reads a dataset by URI (`s3://bucket/key`, `mlflow-artifacts:/path`); at most `maxBytes`. */
export interface DatasetReader {
  /** The bytes, `'too-large'` past `maxBytes`, `undefined` when nothing is at the URI. */
  read(uri: string, maxBytes: number): Promise<Uint8Array | 'too-large' | undefined>;
}

/** Run artifacts by artifact path (`<experiment>/<run>/artifacts/...`), as the artifact proxy stores them. */
export type ArtifactFiles = Pick<ArtifactStore, 'read' | 'write'>;

/** The tracking services the steps use in-process (the same code as the tracking API). */
export interface Tracking {
  experiments: Pick<ExperimentService, 'getByName' | 'create'>;
  runs: Pick<RunService, 'create' | 'get' | 'logBatch' | 'logInputs' | 'logOutputs' | 'update'>;
  /** MLflow 3's logged models: the trained model is one, linked to the run that produced it. */
  models: Pick<LoggedModelService, 'create' | 'finalize' | 'search'>;
}

/** The registry operations the steps use in-process (the same code as the registry API). */
export type Registry = Pick<
  RegistryService,
  'createModel' | 'getModel' | 'createVersion' | 'getVersion' | 'setAlias' | 'searchVersions'
>;

export interface Clock {
  now(): number;
}
