import type { z } from 'zod';
import { EndpointNotFoundError, InvalidParameterError, MethodNotAllowedError } from '../errors.ts';
import { checkBodySize } from './body-limit.ts';
import type { HttpRequest } from './http-request.ts';
import type { Operation } from './operation.ts';
import { validationError } from './validation-error.ts';

/** MLflow serves every endpoint under both prefixes; so does Runway. */
export const API_PREFIXES = ['/api/2.0/', '/ajax-api/2.0/'] as const;

interface CompiledRoute {
  operation: Operation;
  segments: string[];
  /** Paths that start with `/` are matched as they are, without an API prefix (`/health`). */
  absolute: boolean;
}

/**
 * Matches requests to operations and validates their input. Unknown paths are 404 ENDPOINT_NOT_FOUND
 * and known paths with another method 405, both as JSON (MLflow answers HTML for these).
 */
export class Router {
  private readonly routes: CompiledRoute[];

  constructor(operations: readonly Operation[]) {
    this.routes = operations.map((operation) => {
      const absolute = operation.path.startsWith('/');
      return {
        operation,
        absolute,
        segments: (absolute ? operation.path.slice(1) : operation.path).split('/'),
      };
    });
  }

  /** Finds the operation and its input for a request, or throws the error to answer with. */
  resolve(request: HttpRequest): { operation: Operation; input: unknown } {
    const relative = stripPrefix(request.path)?.split('/');
    const absolute = request.path.replace(/^\/+|\/+$/g, '').split('/');
    const matches = this.routes.flatMap((route) => {
      const actual = route.absolute ? absolute : relative;
      const params = actual ? matchSegments(route.segments, actual) : undefined;
      return params ? [{ route, params }] : [];
    });
    if (matches.length === 0) {
      throw new EndpointNotFoundError(`No API endpoint matches ${request.method} ${request.path}`);
    }
    const match = matches.find(({ route }) => route.operation.method === request.method);
    if (!match) {
      const allowed = [...new Set(matches.map(({ route }) => route.operation.method))];
      throw new MethodNotAllowedError(
        `${request.method} is not allowed on ${request.path}; use ${allowed.join(', ')}`,
        allowed,
      );
    }
    const { operation } = match.route;
    checkBodySize(operation, request);
    const raw = {
      ...readParameters(operation, request),
      ...readHeaders(operation, request),
      ...match.params,
    };
    return { operation, input: parseInput(operation.input, raw) };
  }

  /** Resolves and runs the operation. */
  async dispatch(request: HttpRequest): Promise<unknown> {
    const { operation, input } = this.resolve(request);
    return operation.handle(input, request);
  }
}

function stripPrefix(path: string): string | undefined {
  const prefix = API_PREFIXES.find((candidate) => path.startsWith(candidate));
  return prefix ? path.slice(prefix.length).replace(/\/+$/, '') : undefined;
}

function matchSegments(pattern: string[], actual: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const segment = pattern[i] as string;
    if (segment.startsWith('{') && segment.endsWith('+}')) {
      const rest = actual.slice(i).join('/');
      if (rest === '') return undefined;
      params[segment.slice(1, -2)] = rest;
      return params;
    }
    const value = actual[i];
    if (value === undefined) return undefined;
    if (segment.startsWith('{') && segment.endsWith('}')) {
      if (value === '') return undefined;
      params[segment.slice(1, -1)] = value;
    } else if (segment !== value) {
      return undefined;
    }
  }
  return actual.length === pattern.length ? params : undefined;
}

function readParameters(operation: Operation, request: HttpRequest): Record<string, unknown> {
  const source = operation.source ?? (operation.method === 'GET' ? 'query' : 'body');
  return source === 'query' ? queryToObject(request.query) : parseJsonBody(request);
}

function readHeaders(operation: Operation, request: HttpRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, header] of Object.entries(operation.headers ?? {})) {
    const value = request.headers[header];
    if (value !== undefined) out[field] = value;
  }
  return out;
}

function queryToObject(query: Record<string, string[]>): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  for (const [key, values] of Object.entries(query)) {
    out[key] = values.length === 1 ? values[0] : values;
  }
  return out;
}

/**
 * The JSON object a body holds. An empty body is `{}` (MLflow reads it so). A body that is a JSON
 * string holding the object (`"{\"name\": \"x\"}"`, what older clients send double-encoded) is
 * read as that object, as MLflow's `_get_normalized_request_json` does. Everything else that is not a
 * JSON object is 400 INVALID_PARAMETER_VALUE before any operation runs, so nothing is written: a
 * malformed body (MLflow reads it as `{}` on some routes and creates a run from it), a JSON array or
 * scalar (MLflow: HTML 500) and a non-JSON content type.
 */
export function parseJsonBody(request: Pick<HttpRequest, 'body' | 'headers'>): Record<string, unknown> {
  if (request.body === undefined || request.body.trim() === '') return {};
  const contentType = request.headers['content-type'];
  if (contentType !== undefined && !/^application\/(.+\+)?json\b/i.test(contentType.trim())) {
    throw new InvalidParameterError(
      `Bad request. Content-Type must be application/json, got '${contentType.slice(0, 100)}'`,
    );
  }
  let parsed = parseJson(request.body, 'The request body is not valid JSON');
  if (typeof parsed === 'string') {
    parsed = parseJson(parsed, 'The request body is a JSON string that does not hold valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidParameterError(
      `The request body must be a JSON object, got ${Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : `a ${typeof parsed}`}`,
    );
  }
  const shape = walk(parsed, MAX_JSON_DEPTH);
  if (shape === 'too-deep') {
    throw new InvalidParameterError(`The request body is nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  // Most bodies hold no null: they are read as parsed, not copied (a 1,000-metric batch is 80 KB).
  return (shape === 'has-null' ? withoutNulls(parsed) : parsed) as Record<string, unknown>;
}

/** `JSON.parse`, with its error (what is wrong and where) as a 400 that names it. */
function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidParameterError(`${what}: ${(error as Error).message.slice(0, 200)}`);
  }
}

/** No MLflow message nests deeper than a few levels; protobuf's own parser stops at 100. */
const MAX_JSON_DEPTH = 100;

/**
 * Whether a parsed JSON value nests deeper than `limit`, or else holds a `null` property (which
 * {@link withoutNulls} drops), found in one walk without recursion (any depth is safe).
 */
function walk(value: unknown, limit: number): 'too-deep' | 'has-null' | 'plain' {
  let hasNull = false;
  const values: unknown[] = [value];
  const depths: number[] = [1];
  while (values.length > 0) {
    const current = values.pop();
    const depth = depths.pop() as number;
    if (current === null || typeof current !== 'object') continue;
    if (depth > limit) return 'too-deep';
    if (Array.isArray(current)) {
      for (const inner of current) {
        if (inner !== null && typeof inner === 'object') {
          values.push(inner);
          depths.push(depth + 1);
        }
      }
      continue;
    }
    for (const key in current) {
      const inner = (current as Record<string, unknown>)[key];
      if (inner === null) hasNull = true;
      else if (typeof inner === 'object') {
        values.push(inner);
        depths.push(depth + 1);
      }
    }
  }
  return hasNull ? 'has-null' : 'plain';
}

/** Protobuf JSON reads `null` as "not set", for any field; so does Runway, at any depth. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (inner !== null) out[key] = withoutNulls(inner);
  }
  return out;
}

function parseInput(schema: z.ZodType, raw: Record<string, unknown>): unknown {
  const result = schema.safeParse(raw);
  if (!result.success) throw validationError(result.error, raw);
  return result.data;
}
