import { PayloadTooLargeError } from '../errors.ts';
import type { HttpRequest } from './http-request.ts';
import type { Operation } from './operation.ts';

/**
 * The body size a route accepts unless it declares another (`Operation.maxBodyBytes`): 1 MiB. Every
 * MLflow message of the tracking and registry APIs fits in it with room to spare: tag values are at
 * most 8000 characters, a registry or logged-model entity is one DynamoDB item (< 400 KB), and
 * log-batch declares MLflow's own 1,000,000 bytes.
 */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * The most any JSON route declares: 4 MiB. Lambda's synchronous payload limit (6 MB) counts the whole
 * event, in which a JSON body is a JSON string (every `"` escaped, headers beside it), so a larger
 * limit could not be met reliably; API Gateway would answer its own bare 413 instead of this layer's.
 */
export const MAX_JSON_BODY_BYTES = 4 * 1024 * 1024;

/** The body size `operation` accepts, in bytes (decoded bytes for a base64-encoded body). */
export function maxBodyBytesOf(operation: Pick<Operation, 'maxBodyBytes'>): number {
  return operation.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
}

/** The size of the body the client sent: decoded bytes, whether API Gateway base64-encoded it or not. */
export function bodySizeOf(request: Pick<HttpRequest, 'body' | 'rawBody'>): number {
  if (request.rawBody !== undefined) return request.rawBody.byteLength;
  return request.body === undefined ? 0 : Buffer.byteLength(request.body, 'utf8');
}

/**
 * Refuses a body larger than the route accepts, before it is parsed: with the route's own error where
 * MLflow defines one, otherwise 413 naming both sizes (and the route's hint, e.g. multipart upload).
 */
export function checkBodySize(operation: Operation, request: Pick<HttpRequest, 'body' | 'rawBody'>): void {
  const size = bodySizeOf(request);
  const limit = maxBodyBytesOf(operation);
  if (size <= limit) return;
  if (operation.bodyTooLarge) throw operation.bodyTooLarge(size, limit);
  const hint = operation.bodyTooLargeHint ? ` ${operation.bodyTooLargeHint}` : '';
  throw new PayloadTooLargeError(
    `The request body is ${size} bytes; ${operation.method} ${operation.path} accepts at most ${limit} bytes.${hint}`,
  );
}
