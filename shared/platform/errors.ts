/**
 * The domain error hierarchy. Every error a client can cause is one of these; the HTTP layer maps
 * them to MLflow's body `{"error_code", "message"}` and status in one place
 * (`shared/platform/http/error-mapper.ts`). Anything else that escapes is a bug and becomes a 500
 * whose message is never shown to the client.
 */

/** MLflow's error codes (mlflow/protos/databricks.proto) that Runway answers with, plus its own. */
export type ErrorCode =
  | 'INVALID_PARAMETER_VALUE'
  | 'BAD_REQUEST'
  | 'RESOURCE_ALREADY_EXISTS'
  | 'RESOURCE_DOES_NOT_EXIST'
  | 'ENDPOINT_NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'REQUEST_LIMIT_EXCEEDED'
  | 'PERMISSION_DENIED'
  | 'UNAUTHENTICATED'
  | 'INVALID_STATE'
  | 'ABORTED'
  | 'NOT_IMPLEMENTED'
  | 'TEMPORARILY_UNAVAILABLE'
  | 'INTERNAL_ERROR';

/** Base class: an error with MLflow's code and the HTTP status MLflow answers it with. */
export abstract class RunwayError extends Error {
  abstract readonly errorCode: ErrorCode;
  abstract readonly httpStatus: number;
  /** Only errors below 500 show their message to the client (middy's `expose` rule). */
  get expose(): boolean {
    return this.httpStatus < 500;
  }
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A parameter is missing, malformed or out of range (400). */
export class InvalidParameterError extends RunwayError {
  readonly errorCode = 'INVALID_PARAMETER_VALUE';
  readonly httpStatus = 400;
}

/** A request MLflow answers BAD_REQUEST (400): a malformed OTLP body, a missing required header. */
export class BadRequestError extends RunwayError {
  readonly errorCode = 'BAD_REQUEST';
  readonly httpStatus = 400;
}

/** Creating something whose unique name is taken (MLflow answers 400, not 409). */
export class ResourceAlreadyExistsError extends RunwayError {
  readonly errorCode = 'RESOURCE_ALREADY_EXISTS';
  readonly httpStatus = 400;
}

/** The named resource does not exist, or not in the state the call needs (404). */
export class ResourceDoesNotExistError extends RunwayError {
  readonly errorCode = 'RESOURCE_DOES_NOT_EXIST';
  readonly httpStatus = 404;
}

/** The operation is not allowed in the resource's current state (400). */
export class InvalidStateError extends RunwayError {
  readonly errorCode = 'INVALID_STATE';
  readonly httpStatus = 400;
}

/** No route matches the path (404). MLflow answers HTML here; Runway answers JSON. */
export class EndpointNotFoundError extends RunwayError {
  readonly errorCode = 'ENDPOINT_NOT_FOUND';
  readonly httpStatus = 404;
}

/** The path exists but not with this method (405). */
export class MethodNotAllowedError extends RunwayError {
  readonly errorCode = 'METHOD_NOT_ALLOWED';
  readonly httpStatus = 405;
  constructor(
    message: string,
    readonly allowed: readonly string[],
  ) {
    super(message);
  }
}

/**
 * The request body is larger than the route accepts (413). Its code is MLflow's for every size
 * violation, INVALID_PARAMETER_VALUE: MLflow's REQUEST_LIMIT_EXCEEDED means rate limiting (429).
 */
export class PayloadTooLargeError extends RunwayError {
  readonly errorCode = 'INVALID_PARAMETER_VALUE';
  readonly httpStatus = 413;
}

/** The caller is known but may not do this (403). */
export class PermissionDeniedError extends RunwayError {
  readonly errorCode = 'PERMISSION_DENIED';
  readonly httpStatus = 403;
}

/**
 * The challenge every 401 carries (RFC 9110): a Runway token as a Bearer token, or as the password
 * of Basic credentials, which is what the MLflow client sends from MLFLOW_TRACKING_USERNAME/PASSWORD.
 */
export const AUTHENTICATION_CHALLENGE = 'Bearer realm="runway", Basic realm="runway"';

/** The caller is not authenticated (401, with `WWW-Authenticate: AUTHENTICATION_CHALLENGE`). */
export class UnauthenticatedError extends RunwayError {
  readonly errorCode = 'UNAUTHENTICATED';
  readonly httpStatus = 401;
}

/** MLflow endpoints Runway does not serve (501), as MLflow itself answers for what it lacks. */
export class NotImplementedError extends RunwayError {
  readonly errorCode = 'NOT_IMPLEMENTED';
  readonly httpStatus = 501;
  override get expose(): boolean {
    return true;
  }
}

/** A dependency is throttled or briefly unavailable; the client may retry (503). */
export class TemporarilyUnavailableError extends RunwayError {
  readonly errorCode = 'TEMPORARILY_UNAVAILABLE';
  readonly httpStatus = 503;
  override get expose(): boolean {
    return true;
  }
}
