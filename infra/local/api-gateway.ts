import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CloudTemplate } from './cloud-template.ts';

/** API Gateway HTTP API's own limits: a 10 MB request body and a 30 s integration timeout. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Lambda's synchronous invocation payload limit: API Gateway answers 413 above it. */
const MAX_EVENT_BYTES = 6 * 1024 * 1024;

/** A route of the synthesized HTTP API bound to the function its integration targets. */
export interface LocalRoute {
  routeKey: string;
  method: string;
  /** Path segments; `{name}` one segment, `{name+}` the rest. Empty for `$default`. */
  segments: string[];
  functionArn: string;
  /** The HTTP API the route belongs to (its local id). */
  apiId: string;
  /** `NONE`, `AWS_IAM` or `CUSTOM` (a Lambda authorizer). */
  authorizationType: string;
  authorizer?: LocalAuthorizer;
}

/** A Lambda REQUEST authorizer (payload 2.0) as the template declares it. */
export interface LocalAuthorizer {
  id: string;
  functionArn: string;
  /**
   * Header names (lower case) from `$request.header.X` identity sources. None: the authorizer is
   * called for every request, whatever it carries.
   */
  identityHeaders: string[];
  /** Seconds answers are cached per identity; 0 (or no identity source) is no cache. */
  ttlSeconds: number;
  simpleResponses: boolean;
}

/** Invokes a function; `payload` is the event already serialized to JSON, when the caller has it. */
export type FunctionInvoker = (functionArn: string, event: unknown, payload?: string) => Promise<unknown>;

export interface LocalApiGatewayOptions {
  /**
   * Serve the routes guarded by Lambda authorizers and run those authorizers on every request, with
   * API Gateway's caching; otherwise serve the other routes with no authentication. @default false
   */
  auth?: boolean;
  /**
   * The caller reported to functions on `AWS_IAM` routes, which the local runtime serves without
   * checking signatures (`requestContext.authorizer.iam.userArn`). @default none
   */
  iamPrincipal?: string;
  /** @default 'local' */
  apiId?: string;
}

interface CachedAuthorization {
  expiresAt: number;
  authorized: boolean;
  context: Record<string, unknown>;
}

/**
 * Serves the HTTP API routes of the synthesized app as API Gateway does: the same route selection
 * (exact paths, then path variables, then greedy variables, then `$default`; a method beats ANY), the
 * same payload format 2.0 event, and its answers when the integration fails.
 */
export class LocalApiGateway {
  readonly routes: LocalRoute[];
  private readonly apiId: string;
  private readonly authorizations = new Map<string, CachedAuthorization>();

  constructor(
    template: CloudTemplate,
    private readonly invoke: FunctionInvoker,
    private readonly options: LocalApiGatewayOptions = {},
  ) {
    this.routes = selectApi(readRoutes(template), options.auth ?? false);
    this.apiId = options.apiId ?? 'local';
  }

  /** Handles one HTTP request end to end. */
  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const path = rawPathOf(request.url, url);
    const method = (request.method ?? 'GET').toUpperCase();
    const route = this.match(method, path);
    if (!route) return send(response, 404, { message: 'Not Found' });
    const body = await readBody(request, MAX_BODY_BYTES);
    if (body === 'too-large') {
      const declared = request.headers['content-length'];
      const size =
        declared && /^\d+$/.test(declared) ? `${declared} bytes` : `more than ${MAX_BODY_BYTES} bytes`;
      return tooLarge(
        response,
        `The request body is ${size}; API Gateway accepts at most ${MAX_BODY_BYTES} bytes.`,
      );
    }
    const event = this.toEvent(request, method, url, path, route, body);
    // The event the function gets, serialized once (again only if an authorizer adds its context),
    // and measured in bytes, not characters: a multi-byte text body weighs more than its length says.
    let payload = JSON.stringify(event);
    const eventBytes = Buffer.byteLength(payload);
    if (eventBytes > MAX_EVENT_BYTES) {
      return tooLarge(
        response,
        `The request is ${eventBytes} bytes as Lambda receives it (a binary body grows by a third in base64); ` +
          `Lambda accepts at most ${MAX_EVENT_BYTES} bytes.`,
      );
    }
    const identity = await this.identify(route, event);
    if (identity === 'unauthorized') return send(response, 401, { message: 'Unauthorized' });
    if (identity === 'forbidden') return send(response, 403, { message: 'Forbidden' });
    if (identity === 'failed') return send(response, 500, { message: 'Internal Server Error' });
    if (identity) {
      (event.requestContext as Record<string, unknown>).authorizer = identity;
      payload = JSON.stringify(event);
    }
    let result: unknown;
    try {
      result = await this.invoke(route.functionArn, event, payload);
    } catch {
      // API Gateway hides the function's error from the client; the runtime logs it.
      return send(response, 500, { message: 'Internal Server Error' });
    }
    writeResult(response, result);
  }

  /**
   * What API Gateway puts in `requestContext.authorizer`, or its refusal: a missing identity source
   * is 401 without calling the authorizer, a denial 403, an authorizer that fails 500. Answers are
   * cached per authorizer and identity source values for the authorizer's TTL, as API Gateway does;
   * an authorizer without identity sources (which API Gateway accepts only with caching off) is
   * called on every request, and never cached, whatever its TTL says.
   */
  private async identify(
    route: LocalRoute,
    event: ReturnType<LocalApiGateway['toEvent']>,
  ): Promise<Record<string, unknown> | undefined | 'unauthorized' | 'forbidden' | 'failed'> {
    if (route.authorizationType === 'AWS_IAM') {
      return this.options.iamPrincipal ? { iam: { userArn: this.options.iamPrincipal } } : undefined;
    }
    if (route.authorizationType !== 'CUSTOM') return undefined;
    // A Lambda-authorized route whose authorizer the template does not describe: never serve it open.
    const authorizer = route.authorizer;
    if (!authorizer) return 'failed';
    const identity = authorizer.identityHeaders.map((name) => event.headers[name]);
    if (identity.some((value) => value === undefined || value === '')) return 'unauthorized';
    const key = `${authorizer.id}\n${identity.join('\n')}`;
    let cached = this.authorizations.get(key);
    if (!cached || cached.expiresAt <= Date.now()) {
      let result: unknown;
      try {
        result = await this.invoke(authorizer.functionArn, {
          version: '2.0',
          type: 'REQUEST',
          routeArn: `arn:aws:execute-api:local:local:${this.apiId}/$default/${event.requestContext.http.method}${event.rawPath}`,
          identitySource: identity,
          routeKey: event.routeKey,
          rawPath: event.rawPath,
          rawQueryString: event.rawQueryString,
          ...(event.cookies ? { cookies: event.cookies } : {}),
          headers: event.headers,
          ...(event.queryStringParameters ? { queryStringParameters: event.queryStringParameters } : {}),
          requestContext: event.requestContext,
          ...(event.pathParameters ? { pathParameters: event.pathParameters } : {}),
        });
      } catch {
        return 'failed';
      }
      const answer = (result ?? {}) as { isAuthorized?: unknown; context?: unknown };
      if (!authorizer.simpleResponses || typeof answer.isAuthorized !== 'boolean') return 'failed';
      cached = {
        expiresAt: Date.now() + authorizer.ttlSeconds * 1000,
        authorized: answer.isAuthorized,
        context: (answer.context ?? {}) as Record<string, unknown>,
      };
      if (authorizer.ttlSeconds > 0 && identity.length > 0) this.authorizations.set(key, cached);
    }
    return cached.authorized ? { lambda: cached.context } : 'forbidden';
  }

  /** API Gateway's route selection for HTTP APIs. */
  match(method: string, path: string): LocalRoute | undefined {
    const actual = path.split('/').slice(1);
    let best: { route: LocalRoute; score: number[] } | undefined;
    for (const route of this.routes) {
      if (route.routeKey === '$default') continue;
      if (route.method !== 'ANY' && route.method !== method) continue;
      const score = matchScore(route.segments, actual);
      if (!score) continue;
      const ranked = [...score, route.method === 'ANY' ? 0 : 1];
      if (!best || compareScores(ranked, best.score) > 0) best = { route, score: ranked };
    }
    return best?.route ?? this.routes.find((route) => route.routeKey === '$default');
  }

  private toEvent(
    request: IncomingMessage,
    method: string,
    url: URL,
    path: string,
    route: LocalRoute,
    body: Buffer,
  ) {
    const headers: Record<string, string> = {};
    const cookies: string[] = [];
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined) continue;
      if (name === 'cookie') cookies.push(...String(value).split(/;\s*/));
      else headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const query: Record<string, string> = {};
    for (const [key, value] of url.searchParams) query[key] = key in query ? `${query[key]},${value}` : value;
    const now = new Date();
    const isText = body.length === 0 || isTextual(headers['content-type']);
    return {
      version: '2.0',
      routeKey: route.routeKey,
      rawPath: path,
      rawQueryString: url.search.slice(1),
      ...(cookies.length > 0 ? { cookies } : {}),
      headers,
      ...(url.search ? { queryStringParameters: query } : {}),
      requestContext: {
        accountId: 'local',
        apiId: this.apiId,
        domainName: headers.host ?? '127.0.0.1',
        domainPrefix: (headers.host ?? '127').split('.')[0],
        http: {
          method,
          path,
          protocol: `HTTP/${request.httpVersion}`,
          sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
          userAgent: headers['user-agent'] ?? '',
        },
        requestId: randomUUID(),
        routeKey: route.routeKey,
        stage: '$default',
        time: now.toUTCString(),
        timeEpoch: now.getTime(),
      },
      ...pathParameters(route.segments, path.split('/').slice(1)),
      ...(body.length > 0 ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
      isBase64Encoded: !isText,
    };
  }
}

/**
 * The request path exactly as the client sent it. WHATWG URL parsing resolves `.` and `..` segments
 * (also `%2e%2e`), which would turn `artifacts/1/run/artifacts/../../x` into `artifacts/x` before any
 * handler could refuse it; API Gateway hands functions the path as sent (`rawPath`).
 */
function rawPathOf(requestUrl: string | undefined, parsed: URL): string {
  if (requestUrl === undefined || !requestUrl.startsWith('/')) return parsed.pathname;
  const end = requestUrl.search(/[?#]/);
  return end < 0 ? requestUrl : requestUrl.slice(0, end);
}

function readRoutes(template: CloudTemplate): LocalRoute[] {
  const integrations = new Map<string, string>();
  for (const integration of template.resourcesOfType('AWS::ApiGatewayV2::Integration')) {
    const uri = template.resolve(integration.stackName, integration.properties.IntegrationUri);
    integrations.set(`${integration.stackName}/${template.ref(integration)}`, String(uri));
  }
  // An API is named by the stack that defines it: routes and authorizers of other stacks reference it
  // by id (an import), and belong to it all the same.
  const apis = new Map<string, string>();
  for (const api of template.resourcesOfType('AWS::ApiGatewayV2::Api')) {
    apis.set(template.ref(api), `${api.stackName}/${template.ref(api)}`);
  }
  const apiOf = (stackName: string, apiId: unknown) =>
    apis.get(String(apiId)) ?? `${stackName}/${String(apiId)}`;
  // Authorizer ids are unique per API: a route finds its authorizer by its API and id, whichever stack made it.
  const authorizers = new Map<string, LocalAuthorizer>();
  for (const resource of template.resourcesOfType('AWS::ApiGatewayV2::Authorizer')) {
    const props = template.resolve(resource.stackName, resource.properties) as Record<string, unknown>;
    const functionArn = /functions\/(.+)\/invocations$/.exec(String(props.AuthorizerUri ?? ''))?.[1];
    if (props.AuthorizerType !== 'REQUEST' || !functionArn) continue;
    const id = template.ref(resource);
    authorizers.set(`${apiOf(resource.stackName, props.ApiId)}/${id}`, {
      id,
      functionArn,
      identityHeaders: ((props.IdentitySource ?? []) as string[]).flatMap((source) => {
        const header = /^\$request\.header\.(.+)$/.exec(source)?.[1];
        return header ? [header.toLowerCase()] : [];
      }),
      ttlSeconds: Number(props.AuthorizerResultTtlInSeconds ?? 0),
      simpleResponses: props.EnableSimpleResponses === true || props.EnableSimpleResponses === 'true',
    });
  }
  return template.resourcesOfType('AWS::ApiGatewayV2::Route').flatMap((route) => {
    const props = template.resolve(route.stackName, route.properties) as Record<string, unknown>;
    const routeKey = String(props.RouteKey);
    const target = String(props.Target ?? '');
    const functionArn = integrations.get(`${route.stackName}/${target.replace(/^integrations\//, '')}`);
    if (!functionArn) return [];
    const authorizationType = String(props.AuthorizationType ?? 'NONE');
    const apiId = apiOf(route.stackName, props.ApiId);
    const authorizer = authorizers.get(`${apiId}/${String(props.AuthorizerId ?? '')}`);
    const common = {
      routeKey,
      functionArn,
      apiId,
      authorizationType,
      ...(authorizer ? { authorizer } : {}),
    };
    if (routeKey === '$default') return [{ ...common, method: 'ANY', segments: [] }];
    const [method = 'ANY', path = '/'] = routeKey.split(' ');
    return [{ ...common, method: method.toUpperCase(), segments: path.split('/').slice(1) }];
  });
}

/**
 * An app may serve the same routes on several HTTP APIs (Runway: one for IAM, one for tokens); one
 * local port serves one set. With `auth`, the APIs that have Lambda authorizers; without, the others.
 * An app with only one kind serves all its routes either way.
 */
function selectApi(routes: LocalRoute[], auth: boolean): LocalRoute[] {
  const custom = new Set(routes.filter((r) => r.authorizationType === 'CUSTOM').map((r) => r.apiId));
  const chosen = routes.filter((route) => custom.has(route.apiId) === auth);
  return chosen.length > 0 ? chosen : routes;
}

/** Scores a match: [literal segments, single variables] so the most specific route wins; undefined = no match. */
function matchScore(pattern: string[], actual: string[]): number[] | undefined {
  let literals = 0;
  let variables = 0;
  for (let i = 0; i < pattern.length; i++) {
    const segment = pattern[i] as string;
    if (segment.endsWith('+}'))
      return actual.length > i && actual.slice(i).join('/') !== '' ? [literals, variables, 0] : undefined;
    const value = actual[i];
    if (value === undefined || value === '') return undefined;
    if (segment.startsWith('{')) variables++;
    else if (segment === value) literals++;
    else return undefined;
  }
  return actual.length === pattern.length ? [literals, variables, 1] : undefined;
}

function compareScores(a: number[], b: number[]): number {
  // Greediness last: an exact-length match beats a greedy one; more literals beat variables.
  const order = [2, 0, 1, 3];
  for (const i of order) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

function pathParameters(pattern: string[], actual: string[]): { pathParameters?: Record<string, string> } {
  const params: Record<string, string> = {};
  pattern.forEach((segment, i) => {
    if (segment.endsWith('+}')) params[segment.slice(1, -2)] = actual.slice(i).join('/');
    else if (segment.startsWith('{')) params[segment.slice(1, -1)] = actual[i] ?? '';
  });
  return Object.keys(params).length > 0 ? { pathParameters: params } : {};
}

function isTextual(contentType: string | undefined): boolean {
  if (!contentType) return true;
  return /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+(json|xml))/i.test(
    contentType,
  );
}

async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Payload format 2.0 responses: a structured object, or any other value sent as JSON with 200. */
function writeResult(response: ServerResponse, result: unknown): void {
  if (result && typeof result === 'object' && 'statusCode' in result) {
    const structured = result as {
      statusCode: number;
      headers?: Record<string, string>;
      body?: string;
      isBase64Encoded?: boolean;
      cookies?: string[];
    };
    const body = structured.body === undefined ? '' : structured.body;
    const payload = structured.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
    const headers: Record<string, string | string[]> = { ...structured.headers };
    if (structured.cookies?.length) headers['set-cookie'] = structured.cookies;
    headers['content-length'] = String(payload.length);
    response.writeHead(structured.statusCode, headers);
    response.end(payload);
    return;
  }
  send(response, 200, result ?? null);
}

/**
 * API Gateway's 413, in MLflow's error shape (a bare `{"message"}` tells an MLflow client nothing):
 * the size, the limit, and what to do instead.
 */
function tooLarge(response: ServerResponse, what: string): void {
  send(response, 413, {
    error_code: 'INVALID_PARAMETER_VALUE',
    message:
      `${what} Files go as artifacts: PUT /api/2.0/mlflow-artifacts/artifacts/<path> at Runway's URL takes ` +
      "one file of up to 5 GiB (what MLflow's log_artifact sends); larger files by multipart upload " +
      '(MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true).',
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
  });
  response.end(payload);
}
