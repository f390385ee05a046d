import type { z } from 'zod';
import type { RunwayError } from '../errors.ts';
import type { HttpRequest } from './http-request.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * One API operation: the primary adapter between HTTP and a service method. Operations carry their
 * zod input schema, so validation happens once, at the edge, before any domain code runs.
 */
export interface Operation<S extends z.ZodType = z.ZodType> {
  method: HttpMethod;
  /**
   * The path below an API prefix (`/api/2.0/`, `/ajax-api/2.0/`), e.g. `mlflow/experiments/create`.
   * `{name}` matches one segment, `{name+}` the rest of the path.
   */
  path: string;
  /** Validates the parameters: the JSON body, or for GET the query string (MLflow reads both so). */
  input: S;
  /** Where the parameters come from; defaults to `query` for GET and `body` otherwise. */
  source?: 'query' | 'body';
  /**
   * Request headers read as parameters: input field name -> header name (lower case), for APIs that
   * carry a parameter in a header (OTLP's `x-mlflow-experiment-id`). Absent headers are left out.
   */
  headers?: Readonly<Record<string, string>>;
  /**
   * The largest body the route accepts, in bytes; a larger one is refused with 413 before it is
   * parsed (`body-limit.ts`). JSON routes stay at or below `MAX_JSON_BODY_BYTES`.
   * @default DEFAULT_MAX_BODY_BYTES (1 MiB)
   */
  maxBodyBytes?: number;
  /** Appended to the 413 message: what to do instead (e.g. upload in parts). */
  bodyTooLargeHint?: string;
  /**
   * The error a larger body is answered with, where MLflow defines its own (log-batch: 400).
   * @default a 413 `PayloadTooLargeError` naming both sizes (and `bodyTooLargeHint`)
   */
  bodyTooLarge?: (size: number, limit: number) => RunwayError;
  /** Calls one service method and returns the response body (serialized as JSON). */
  handle(input: z.output<S>, request: HttpRequest): Promise<unknown> | unknown;
}

/** Declares an operation with its input type inferred from its schema. */
export function defineOperation<S extends z.ZodType>(operation: Operation<S>): Operation<S> {
  return operation;
}

/**
 * A response an operation returns when it needs a status or headers other than 200 JSON. A body that
 * is bytes (a `Uint8Array` or `Buffer`) is sent as it is; anything else is serialized as JSON.
 */
export class HttpResponse {
  constructor(
    readonly statusCode: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}
