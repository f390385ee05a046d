/**
 * The Step Functions JSON API (protocol awsJson1_0) in front of the local runtime: request validation,
 * routing of `X-Amz-Target: AWSStepFunctions.<Action>` to the runtime, wire encoding of responses and errors.
 * Transport-free: an HTTP server hands over the action and the parsed body and writes back the result.
 */
import type {
  DescribeExecutionOutput,
  DescribeStateMachineOutput,
  ExecutionStatus,
  GetExecutionHistoryOutput,
  ListExecutionsOutput,
  ListStateMachinesOutput,
  StartExecutionOutput,
  StartSyncExecutionOutput,
  StopExecutionOutput,
} from '@aws-sdk/client-sfn';
import {
  type GetExecutionHistoryRequest,
  type ListExecutionsRequest,
  type ListStateMachinesRequest,
  SfnApiError,
  type StartExecutionRequest,
  type StopExecutionRequest,
} from './types.ts';

/** `Content-Type` of Step Functions API requests and responses. */
export const SFN_JSON_CONTENT_TYPE = 'application/x-amz-json-1.0';

const TARGET_PREFIX = 'AWSStepFunctions.';

/** The action named by an `X-Amz-Target` header (`AWSStepFunctions.StartExecution` → `StartExecution`). */
export function sfnActionFromTarget(target: string | undefined): string | undefined {
  return target?.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined;
}

/** The operations the API routes to. */
export interface SfnApi {
  startExecution(request: StartExecutionRequest): Promise<StartExecutionOutput>;
  startSyncExecution(request: StartExecutionRequest): Promise<StartSyncExecutionOutput>;
  describeExecution(executionArn: string): Promise<DescribeExecutionOutput>;
  listExecutions(request: ListExecutionsRequest): Promise<ListExecutionsOutput>;
  getExecutionHistory(request: GetExecutionHistoryRequest): Promise<GetExecutionHistoryOutput>;
  stopExecution(request: StopExecutionRequest): Promise<StopExecutionOutput>;
  describeStateMachine(stateMachineArn: string): Promise<DescribeStateMachineOutput>;
  listStateMachines(request: ListStateMachinesRequest): Promise<ListStateMachinesOutput>;
  sendTaskSuccess(taskToken: string, output: string): Promise<Record<string, never>>;
  sendTaskFailure(taskToken: string, error?: string, cause?: string): Promise<Record<string, never>>;
  sendTaskHeartbeat(taskToken: string): Promise<Record<string, never>>;
}

/** An HTTP-ready answer: status and a JSON-serialisable body. */
export interface SfnApiResponse {
  status: number;
  body: unknown;
}

const EXECUTION_STATUSES: readonly string[] = [
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
  'PENDING_REDRIVE',
] satisfies ExecutionStatus[];

const invalid = (message: string) => new SfnApiError('ValidationException', message);

/** Typed access to the fields of a request body, failing the way AWS does on a wrong or missing field. */
class RequestFields {
  readonly #body: Record<string, unknown>;

  constructor(body: unknown) {
    if (body === undefined || body === null) this.#body = {};
    else if (typeof body === 'object' && !Array.isArray(body)) this.#body = body as Record<string, unknown>;
    else throw invalid('The request body must be a JSON object');
  }

  string(name: string): string {
    const value = this.optionalString(name);
    if (value === undefined)
      throw invalid(
        `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`,
      );
    return value;
  }

  optionalString(name: string): string | undefined {
    const value = this.#body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw invalid(`'${name}' must be a string`);
    return value;
  }

  optionalInteger(name: string, max: number): number | undefined {
    const value = this.#body[name];
    if (value === undefined || value === null) return undefined;
    if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > max) {
      throw invalid(`'${name}' must be an integer between 0 and ${max}`);
    }
    return value as number;
  }

  optionalBoolean(name: string): boolean | undefined {
    const value = this.#body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw invalid(`'${name}' must be a boolean`);
    return value;
  }

  status(name: string): ExecutionStatus | undefined {
    const value = this.optionalString(name);
    if (value !== undefined && !EXECUTION_STATUSES.includes(value))
      throw invalid(`'${name}' is not an execution status`);
    return value as ExecutionStatus | undefined;
  }
}

/** Spread helper: `{ key: value }` when the value is defined, `{}` otherwise (keeps optional fields absent). */
const defined = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };

function startRequest(fields: RequestFields): StartExecutionRequest {
  return {
    stateMachineArn: fields.string('stateMachineArn'),
    ...defined('name', fields.optionalString('name')),
    ...defined('input', fields.optionalString('input')),
  };
}

type Route = (api: SfnApi, fields: RequestFields) => Promise<unknown>;

const ROUTES: Record<string, Route> = {
  StartExecution: (api, fields) => api.startExecution(startRequest(fields)),
  StartSyncExecution: (api, fields) => api.startSyncExecution(startRequest(fields)),
  DescribeExecution: (api, fields) => api.describeExecution(fields.string('executionArn')),
  ListExecutions: (api, fields) =>
    api.listExecutions({
      stateMachineArn: fields.string('stateMachineArn'),
      ...defined('statusFilter', fields.status('statusFilter')),
      ...defined('maxResults', fields.optionalInteger('maxResults', 1000)),
      ...defined('nextToken', fields.optionalString('nextToken')),
    }),
  GetExecutionHistory: (api, fields) =>
    api.getExecutionHistory({
      executionArn: fields.string('executionArn'),
      ...defined('maxResults', fields.optionalInteger('maxResults', 1000)),
      ...defined('nextToken', fields.optionalString('nextToken')),
      ...defined('reverseOrder', fields.optionalBoolean('reverseOrder')),
      ...defined('includeExecutionData', fields.optionalBoolean('includeExecutionData')),
    }),
  StopExecution: (api, fields) =>
    api.stopExecution({
      executionArn: fields.string('executionArn'),
      ...defined('error', fields.optionalString('error')),
      ...defined('cause', fields.optionalString('cause')),
    }),
  DescribeStateMachine: (api, fields) => api.describeStateMachine(fields.string('stateMachineArn')),
  SendTaskSuccess: (api, fields) => api.sendTaskSuccess(fields.string('taskToken'), fields.string('output')),
  SendTaskFailure: (api, fields) =>
    api.sendTaskFailure(
      fields.string('taskToken'),
      fields.optionalString('error'),
      fields.optionalString('cause'),
    ),
  SendTaskHeartbeat: (api, fields) => api.sendTaskHeartbeat(fields.string('taskToken')),
  ListStateMachines: (api, fields) =>
    api.listStateMachines({
      ...defined('maxResults', fields.optionalInteger('maxResults', 1000)),
      ...defined('nextToken', fields.optionalString('nextToken')),
    }),
};

/**
 * awsJson1_0 wire form: timestamps as epoch seconds (fractional), absent optionals left out rather than null.
 */
export function toWire(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(toWire);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, field]) => field !== undefined)
        .map(([key, field]) => [key, toWire(field)]),
    );
  }
  return value;
}

/** The error body AWS JSON protocols use; the SDK maps `__type` to its exception class. */
export function errorResponse(error: unknown): SfnApiResponse {
  if (error instanceof SfnApiError) {
    return { status: error.status, body: { __type: error.code, message: error.message } };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, body: { __type: 'InternalServerError', message } };
}

/**
 * Route one API request. Never rejects: failures become error responses (unknown actions:
 * 400 `UnknownOperationException`; unexpected errors: 500).
 */
export async function routeSfnApiRequest(
  api: SfnApi,
  action: string,
  body: unknown,
): Promise<SfnApiResponse> {
  const route = Object.hasOwn(ROUTES, action) ? ROUTES[action] : undefined;
  if (!route) {
    return errorResponse(new SfnApiError('UnknownOperationException', `Unknown operation ${action}`));
  }
  try {
    return { status: 200, body: toWire(await route(api, new RequestFields(body))) };
  } catch (error) {
    return errorResponse(error);
  }
}

/** One page of a listing. */
export interface Page<T> {
  items: T[];
  nextToken?: string;
}

interface PageToken {
  scope: string;
  offset: number;
}

function decodeToken(token: string, scope: string): number {
  try {
    const decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<PageToken>;
    if (decoded.scope === scope && Number.isInteger(decoded.offset) && (decoded.offset as number) >= 0) {
      return decoded.offset as number;
    }
  } catch {
    // fall through: any unreadable token is reported the same way
  }
  throw new SfnApiError('InvalidToken', 'Invalid Token');
}

/**
 * Slice a listing into pages. Tokens are opaque, tied to `scope` (the listing they came from) so that a token
 * replayed on another listing is refused as AWS refuses it. `maxResults` 0 or absent means 100.
 */
export function paginate<T>(
  items: readonly T[],
  scope: string,
  maxResults?: number,
  nextToken?: string,
): Page<T> {
  const offset = nextToken === undefined ? 0 : decodeToken(nextToken, scope);
  const size = maxResults || 100;
  const end = offset + size;
  const page: Page<T> = { items: items.slice(offset, end) };
  if (end < items.length) {
    page.nextToken = Buffer.from(JSON.stringify({ scope, offset: end } satisfies PageToken)).toString(
      'base64url',
    );
  }
  return page;
}
