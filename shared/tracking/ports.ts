import type { Experiment, LifecycleStage } from './model.ts';

/**
 * Storage for experiments. Implementations enforce name uniqueness and lifecycle transitions with
 * conditional writes, so concurrent callers cannot both win.
 */
export interface ExperimentRepository {
  /** Allocates a new experiment id; ids never repeat (gaps are allowed). */
  allocateId(): Promise<string>;
  /** Stores a new experiment; throws `ResourceAlreadyExistsError` when its name is taken. */
  create(experiment: Experiment): Promise<void>;
  get(experimentId: string): Promise<Experiment | undefined>;
  getByName(name: string): Promise<Experiment | undefined>;
  /** Every experiment (any stage), read from one index partition. */
  list(): Promise<Experiment[]>;
  /** Renames an active experiment; throws `ResourceAlreadyExistsError` when the new name is taken. */
  rename(experiment: Experiment, newName: string, now: number): Promise<void>;
  /**
   * Moves an experiment from one stage to the other; returns false when it was not in `from`
   * (or does not exist), so the caller can answer as MLflow does.
   */
  transition(experimentId: string, from: LifecycleStage, to: LifecycleStage, now: number): Promise<boolean>;
  /** Sets a tag on an active experiment; returns false when it is missing or not active. */
  setTag(experimentId: string, key: string, value: string): Promise<boolean>;
  /** Deletes a tag (missing tags are fine); returns false when the experiment is missing or not active. */
  deleteTag(experimentId: string, key: string): Promise<boolean>;
}

/** Time, injected so tests control it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
