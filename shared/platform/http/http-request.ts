import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Principal } from '../../access/model.ts';

/** The parts of an API Gateway HTTP API (payload format 2.0) request that Runway's routes read. */
export interface HttpRequest {
  method: string;
  /** The path as the client sent it, decoded, without the query string. */
  path: string;
  /** Every query argument with all its values, in order (API Gateway's own map joins repeats with ","). */
  query: Record<string, string[]>;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The body as text; `undefined` when empty. */
  body: string | undefined;
  /**
   * The body's bytes exactly as the client sent them; `undefined` when empty. API Gateway
   * base64-encodes binary bodies, and `body` decodes them to text, which is lossy for binary data
   * (artifact uploads read this instead). Optional so that hand-built requests need not carry it.
   */
  rawBody?: Buffer | undefined;
  requestId: string;
  /** Path parameters of the matched route, e.g. `{ proxy: 'experiments/create' }`. */
  pathParameters: Record<string, string>;
  /** The authenticated caller, set by the access layer (`shared/access/`) before the operation runs. */
  principal?: Principal;
}

/** Reads an HTTP API v2 event. Repeated query arguments come from `rawQueryString`, never the lossy map. */
export function fromApiGatewayEvent(event: APIGatewayProxyEventV2): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  const rawBody =
    event.body === undefined || event.body === null || event.body === ''
      ? undefined
      : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  const body =
    rawBody === undefined ? undefined : event.isBase64Encoded ? rawBody.toString('utf8') : event.body;
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: safeDecode(event.rawPath ?? event.requestContext.http.path),
    query: parseQueryString(event.rawQueryString ?? ''),
    headers,
    body,
    rawBody,
    requestId: event.requestContext.requestId,
    pathParameters: Object.fromEntries(
      Object.entries(event.pathParameters ?? {}).filter((entry): entry is [string, string] => !!entry[1]),
    ),
  };
}

/** Parses `a=1&a=2&b=x` into `{ a: ['1', '2'], b: ['x'] }`; `+` is a space as in forms. */
export function parseQueryString(raw: string): Record<string, string[]> {
  // No prototype: `__proto__`, `toString` or `valueOf` are argument names like any other.
  const query: Record<string, string[]> = Object.create(null);
  for (const [key, value] of new URLSearchParams(raw)) {
    const values = query[key] ?? [];
    values.push(value);
    query[key] = values;
  }
  return query;
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    // A malformed escape is the client's mistake; keep the raw path so routing answers 404, not 500.
    return path;
  }
}
