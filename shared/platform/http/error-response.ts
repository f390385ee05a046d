import {
  AUTHENTICATION_CHALLENGE,
  MethodNotAllowedError,
  RunwayError,
  UnauthenticatedError,
} from '../errors.ts';

/** An API Gateway v2 structured response. */
export interface ApiResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded?: boolean;
}

/** AWS SDK error names that mean "slow down": answered 503 so clients retry, never 500. */
const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'SlowDown',
  'TooManyRequestsException',
]);

/** DynamoDB's refusals of keys over its size limits (2048 bytes a partition key, 1024 a sort key). */
const KEY_TOO_LONG =
  /exceeded the maximum size limit|size limit of \d+ bytes|Aggregated size of all range keys/i;

/** DynamoDB's refusal of an item over 400 KB (also as a transaction's or a batch's cancellation reason). */
const ITEM_TOO_LARGE = /Item size has exceeded the maximum allowed size|Item size to update has exceeded/i;

/**
 * The one place where errors become HTTP answers in MLflow's shape `{"error_code", "message"}`.
 * Errors below 500 show their message; anything unexpected is a 500 whose details stay in the logs.
 */
export function errorResponse(error: unknown, requestId: string): ApiResponse {
  if (error instanceof RunwayError) {
    const headers: Record<string, string> = {};
    if (error instanceof MethodNotAllowedError) headers.allow = error.allowed.join(', ');
    if (error instanceof UnauthenticatedError) headers['www-authenticate'] = AUTHENTICATION_CHALLENGE;
    const message = error.expose ? error.message : `Internal error (request id ${requestId})`;
    return json(error.httpStatus, { error_code: error.errorCode, message }, headers);
  }
  if (error instanceof Error && error.name === 'ValidationException' && KEY_TOO_LONG.test(error.message)) {
    // An id or name longer than any stored one cannot be a DynamoDB key: it names nothing, and it is
    // the client's mistake, wherever in the code the lookup happens.
    return json(400, {
      error_code: 'INVALID_PARAMETER_VALUE',
      message: 'An id or name in the request is longer than any Runway stores',
    });
  }
  if (error instanceof Error && error.name === 'ValidationException' && ITEM_TOO_LARGE.test(error.message)) {
    // Values that pass every field limit yet together outgrow one DynamoDB item: too much for one
    // entity, refused as such rather than as a server fault. Routes check what they can up front.
    return json(400, {
      error_code: 'INVALID_PARAMETER_VALUE',
      message: 'The values in the request are larger than Runway stores for one entity (400 KB)',
    });
  }
  if (error instanceof Error && THROTTLING.has(error.name)) {
    return json(
      503,
      { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'The service is busy; retry the request shortly' },
      { 'retry-after': '1' },
    );
  }
  return json(500, { error_code: 'INTERNAL_ERROR', message: `Internal error (request id ${requestId})` });
}

/** A JSON response. */
export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}
