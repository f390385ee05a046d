import { ResourceDoesNotExistError } from '../platform/errors.ts';

export const monitorNotFound = (name: string) =>
  new ResourceDoesNotExistError(`Monitor '${name}' does not exist`);

/**
 * A monitor run cannot read what it needs (the endpoint is gone, the baseline is missing or not
 * statistics, a model file is unreadable). The run fails with this as its cause: a configuration to
 * fix, not something a retry mends.
 */
export class MonitorRunError extends Error {
  override readonly name = 'MonitorRunError';
}

/** Throttling or a bus that refused an entry: the state machine retries the step. */
export class MonitorTransientError extends Error {
  override readonly name = 'MonitorTransientError';
}
