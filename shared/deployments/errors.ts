import { InvalidStateError, ResourceDoesNotExistError, RunwayError } from '../platform/errors.ts';

/**
 * A compare-and-set lost its race: the endpoint or deployment changed since the caller read it
 * (409 ABORTED, Databricks' code for an aborted concurrent change). The caller re-reads and decides
 * again; nothing was written.
 */
export class ConflictError extends RunwayError {
  readonly errorCode = 'ABORTED';
  readonly httpStatus = 409;
}

/** `updateTraffic` was given a revision the endpoint has moved past. */
export class StaleRevisionError extends ConflictError {
  constructor(
    readonly endpointName: string,
    readonly expectedRevision: number,
    readonly actualRevision: number,
  ) {
    super(
      `Endpoint '${endpointName}' is at traffic revision ${actualRevision}, not ${expectedRevision}: ` +
        'someone else moved its traffic; read it again',
    );
  }
}

/** A deployment that already finished (succeeded, rolled back or failed) cannot change again. */
export class DeploymentFinishedError extends ConflictError {
  constructor(
    readonly deploymentId: string,
    readonly status: string,
  ) {
    super(`Deployment '${deploymentId}' has already finished (${status})`);
  }
}

export const endpointNotFound = (name: string) =>
  new ResourceDoesNotExistError(`Endpoint '${name}' does not exist`);

export const endpointDeleting = (name: string) =>
  new InvalidStateError(`Endpoint '${name}' is being deleted`);
