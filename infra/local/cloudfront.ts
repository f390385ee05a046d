import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { BUCKET_CONTENT_METADATA, type BucketContent } from '../constructs/bucket-content.ts';
import { BucketDirectory } from './bucket-directory.ts';
import type { CloudTemplate } from './cloud-template.ts';
import {
  fromFunctionHeaders,
  fromFunctionQuery,
  functionResponseBody,
  isGeneratedResponse,
  LocalCloudFrontFunction,
  toFunctionRequest,
} from './cloudfront-function.ts';
import { InProcessResponse } from './in-process-response.ts';

/** CloudFront's header shape in Lambda@Edge events: lower-case names, each a list of `{ key, value }`. */
type CfHeaders = Record<string, Array<{ key?: string; value: string }>>;

interface CfRequest {
  clientIp: string;
  method: string;
  uri: string;
  querystring: string;
  headers: CfHeaders;
  origin?: { s3?: S3OriginEvent; custom?: unknown };
}

interface S3OriginEvent {
  authMethod: string;
  customHeaders: CfHeaders;
  domainName: string;
  path: string;
  region: string;
}

interface CfResponse {
  status: string;
  statusDescription?: string;
  headers: CfHeaders;
  body?: string;
  bodyEncoding?: 'text' | 'base64';
}

/**
 * An origin of the distribution: a bucket on the S3 emulator (the artifact bucket, with its custom
 * headers), a bucket whose content is a folder (`runway:content`: the console's), or an HTTP API.
 */
interface LocalOrigin {
  id: string;
  kind: 's3' | 'directory' | 'custom';
  domainName: string;
  /** The bucket an S3 origin names (`<bucket>.s3.<region>.amazonaws.com`). */
  bucket?: string;
  directory?: BucketDirectory;
  originPath: string;
  customHeaders: CfHeaders;
}

/** A response header a response headers policy adds; `override` replaces the origin's own. */
interface PolicyHeader {
  name: string;
  value: string;
  override: boolean;
}

/**
 * A cache behaviour: its path pattern (none for the default), origin, methods, its viewer-request
 * CloudFront Function, Lambda@Edge functions and response headers policy.
 */
interface LocalBehavior {
  pathPattern?: string;
  matcher?: RegExp;
  originId: string;
  allowedMethods: string[];
  viewerRequest?: LocalCloudFrontFunction;
  originRequest?: string;
  originResponse?: string;
  responseHeaders: PolicyHeader[];
}

export type EdgeInvoker = (functionArn: string, event: unknown) => Promise<unknown>;

export interface LocalCloudFrontOptions {
  /**
   * Serves requests routed to an S3 origin: the embedded S3 emulator's own handler, called in this
   * process (`S3Emulator.handle`), as `api` is the local API Gateway's.
   */
  s3: (request: IncomingMessage, response: ServerResponse) => Promise<void>;
  /** Serves requests routed to an HTTP API origin (the local port serves one API: see `LocalApiGateway`). */
  api: (request: IncomingMessage, response: ServerResponse) => Promise<void>;
  invoke: EdgeInvoker;
  /**
   * An `Authorization` header set on every request to an S3 origin: a local Runway without `--auth`
   * serves everyone as its admin, and the edge function learns who calls from a token only.
   * @default the viewer's own
   */
  authorization?: string;
  region: string;
}

/**
 * The app's CloudFront distribution, served on the local port as CloudFront serves it: behaviours
 * matched in order by path pattern (else the default), Lambda@Edge origin-request and origin-response
 * functions run with CloudFront's event shape, S3 origins reached in the local S3 emulator (the
 * request body streamed in and the object streamed out, never held in memory), and HTTP API origins
 * handed to the local API Gateway. Nothing is cached, as the distribution caches nothing.
 */
export class LocalCloudFront {
  private constructor(
    private readonly behaviors: LocalBehavior[],
    private readonly origins: Map<string, LocalOrigin>,
    private readonly options: LocalCloudFrontOptions,
    readonly domainName: string,
  ) {}

  /** The distribution the template declares, or undefined when it has none. */
  static fromTemplate(template: CloudTemplate, options: LocalCloudFrontOptions): LocalCloudFront | undefined {
    const [distribution, ...others] = template.resourcesOfType('AWS::CloudFront::Distribution');
    if (!distribution) return undefined;
    if (others.length > 0)
      throw new Error('The local runtime serves one CloudFront distribution; the app has several');
    const config = (
      template.resolve(distribution.stackName, distribution.properties) as Record<string, unknown>
    ).DistributionConfig as DistributionConfig;
    const contents = new Map<string, BucketContent>();
    for (const bucket of template.resourcesOfType('AWS::S3::Bucket')) {
      const content = bucket.metadata[BUCKET_CONTENT_METADATA] as BucketContent | undefined;
      if (content) contents.set(template.physicalName(bucket), content);
    }
    const origins = new Map<string, LocalOrigin>();
    for (const origin of config.Origins ?? []) {
      const domainName = String(origin.DomainName);
      const s3 = origin.S3OriginConfig !== undefined || /\.s3\.[^.]+\.amazonaws\.com$/.test(domainName);
      const bucket = s3 ? domainName.replace(/\.s3\.[^.]+\.amazonaws\.com$/, '') : undefined;
      const content = bucket === undefined ? undefined : contents.get(bucket);
      origins.set(origin.Id, {
        id: origin.Id,
        kind: content ? 'directory' : s3 ? 's3' : 'custom',
        domainName,
        ...(bucket === undefined ? {} : { bucket }),
        ...(bucket !== undefined && content ? { directory: new BucketDirectory(bucket, content) } : {}),
        originPath: origin.OriginPath ?? '',
        customHeaders: Object.fromEntries(
          (origin.OriginCustomHeaders ?? []).map(({ HeaderName, HeaderValue }) => [
            HeaderName.toLowerCase(),
            [{ key: HeaderName, value: String(HeaderValue) }],
          ]),
        ),
      });
    }
    // CloudFront Functions and response headers policies, by what the behaviours resolve them to.
    const functions = new Map<string, LocalCloudFrontFunction>();
    for (const fn of template.resourcesOfType('AWS::CloudFront::Function')) {
      const arn = template.resolve(fn.stackName, { 'Fn::GetAtt': [fn.logicalId, 'FunctionARN'] });
      const code = String(template.resolve(fn.stackName, fn.properties.FunctionCode));
      functions.set(String(arn), new LocalCloudFrontFunction(fn.logicalId, code));
    }
    const policies = new Map<string, PolicyHeader[]>();
    for (const policy of template.resourcesOfType('AWS::CloudFront::ResponseHeadersPolicy')) {
      const resolved = template.resolve(policy.stackName, policy.properties) as {
        ResponseHeadersPolicyConfig: ResponseHeadersPolicyConfig;
      };
      policies.set(template.ref(policy), policyHeaders(resolved.ResponseHeadersPolicyConfig));
    }
    const behavior = (raw: CacheBehavior): LocalBehavior => {
      const edge = (type: string) =>
        raw.LambdaFunctionAssociations?.find((association) => association.EventType === type)
          ?.LambdaFunctionARN;
      const originRequest = edge('origin-request');
      const originResponse = edge('origin-response');
      const viewerRequestArn = raw.FunctionAssociations?.find(
        (association) => association.EventType === 'viewer-request',
      )?.FunctionARN;
      const viewerRequest =
        viewerRequestArn === undefined ? undefined : functions.get(String(viewerRequestArn));
      if (viewerRequestArn !== undefined && !viewerRequest)
        throw new Error(`No CloudFront Function ${String(viewerRequestArn)} in the template`);
      return {
        ...(raw.PathPattern
          ? { pathPattern: raw.PathPattern, matcher: pathPatternRegExp(raw.PathPattern) }
          : {}),
        originId: raw.TargetOriginId,
        allowedMethods: raw.AllowedMethods ?? ['GET', 'HEAD'],
        ...(viewerRequest ? { viewerRequest } : {}),
        ...(originRequest ? { originRequest: String(originRequest) } : {}),
        ...(originResponse ? { originResponse: String(originResponse) } : {}),
        responseHeaders:
          raw.ResponseHeadersPolicyId === undefined
            ? []
            : (policies.get(String(raw.ResponseHeadersPolicyId)) ?? []),
      };
    };
    const behaviors = [...(config.CacheBehaviors ?? []).map(behavior), behavior(config.DefaultCacheBehavior)];
    return new LocalCloudFront(
      behaviors,
      origins,
      options,
      `${distribution.logicalId.toLowerCase()}.cloudfront.local`,
    );
  }

  /** Buckets served from folders that are not there (the console not built yet). */
  missingContent(): Array<{ bucket: string; directory: string }> {
    return [...this.origins.values()].flatMap((origin) =>
      origin.directory && !origin.directory.exists()
        ? [{ bucket: origin.directory.bucket, directory: origin.directory.directory }]
        : [],
    );
  }

  /** The behaviour CloudFront picks for a path: the first whose pattern matches, else the default. */
  behaviorFor(path: string): LocalBehavior {
    return (
      this.behaviors.find((candidate) => candidate.matcher?.test(path)) ??
      (this.behaviors[this.behaviors.length - 1] as LocalBehavior)
    );
  }

  /** Handles one viewer request end to end. */
  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // The path as sent: CloudFront hands functions what the viewer sent (a WHATWG URL would resolve
    // `%2e%2e` segments away before the edge function could refuse them).
    const raw = request.url ?? '/';
    const query = raw.indexOf('?');
    let uri = query < 0 ? raw : raw.slice(0, query);
    let querystring = query < 0 ? '' : raw.slice(query + 1);
    const behavior = this.behaviorFor(uri);
    const method = (request.method ?? 'GET').toUpperCase();
    if (!behavior.allowedMethods.includes(method)) {
      request.resume();
      return sendJson(response, 403, { message: `CloudFront does not allow ${method} on this path` });
    }
    const requestId = randomUUID();
    addResponseHeaders(response, behavior.responseHeaders);
    if (behavior.viewerRequest) {
      const result = await behavior.viewerRequest.viewerRequest(
        toFunctionRequest(method, uri, querystring, request.headers),
        {
          distributionDomainName: this.domainName,
          requestId,
          viewerIp: request.socket.remoteAddress ?? '127.0.0.1',
        },
      );
      if (isGeneratedResponse(result)) {
        request.resume();
        const body = functionResponseBody(result);
        response.writeHead(result.statusCode, {
          ...fromFunctionHeaders(result.headers),
          'content-length': String(body.length),
        });
        response.end(method === 'HEAD' ? undefined : body);
        return;
      }
      uri = result.uri;
      querystring = fromFunctionQuery(result.querystring);
      request.url = querystring ? `${uri}?${querystring}` : uri;
      request.headers = { ...fromFunctionHeaders(result.headers), cookie: request.headers.cookie };
    }
    const origin = this.origins.get(behavior.originId);
    if (!origin || origin.kind === 'custom') return this.options.api(request, response);
    if (origin.kind === 'directory' && origin.directory) {
      request.resume();
      const ifNoneMatch = request.headers['if-none-match'];
      origin.directory.serve(
        method,
        uri,
        typeof ifNoneMatch === 'string' ? ifNoneMatch : undefined,
        response,
      );
      return;
    }
    const viewer: CfRequest = {
      clientIp: request.socket.remoteAddress ?? '127.0.0.1',
      method,
      uri,
      querystring,
      headers: toCfHeaders(request.headers, {
        host: origin.domainName,
        authorization: this.options.authorization,
      }),
      origin: {
        s3: {
          authMethod: 'none',
          customHeaders: origin.customHeaders,
          domainName: origin.domainName,
          path: origin.originPath,
          region: this.options.region,
        },
      },
    };
    const toOrigin = behavior.originRequest
      ? await this.invoke(behavior.originRequest, 'origin-request', requestId, { request: viewer })
      : viewer;
    if ('status' in toOrigin) {
      // A generated answer: the body was never read; CloudFront discards it.
      request.resume();
      return writeCf(response, toOrigin);
    }
    const fromS3 = await this.fetchFromS3(origin, toOrigin as CfRequest, request);
    if (!fromS3) {
      response.destroy(); // the viewer went away mid-body: nobody is left to answer
      return;
    }
    const answer: CfResponse = {
      status: String(fromS3.statusCode ?? 502),
      statusDescription: fromS3.statusMessage ?? '',
      headers: toCfHeaders(fromS3.headers, {}),
    };
    const final = behavior.originResponse
      ? ((await this.invoke(behavior.originResponse, 'origin-response', requestId, {
          request: toOrigin,
          response: answer,
        })) as CfResponse)
      : answer;
    if (final.body !== undefined) {
      fromS3.resume();
      return writeCf(response, final);
    }
    response.writeHead(Number(final.status), fromCfHeaders(final.headers));
    fromS3.pipe(response);
    await new Promise<void>((resolve, reject) => {
      response.on('finish', resolve);
      response.on('close', resolve);
      fromS3.on('error', reject);
      // An origin that cuts its answer midway fails the viewer's transfer too: never a short file.
      fromS3.on('close', () => {
        if (fromS3.readableEnded) return;
        response.destroy();
        resolve();
      });
    });
  }

  private async invoke(
    functionArn: string,
    eventType: 'origin-request' | 'origin-response',
    requestId: string,
    cf: { request: CfRequest; response?: CfResponse },
  ): Promise<CfRequest | CfResponse> {
    const event = {
      Records: [
        {
          cf: {
            config: {
              distributionDomainName: this.domainName,
              distributionId: 'LOCAL',
              eventType,
              requestId,
            },
            ...cf,
          },
        },
      ],
    };
    return (await this.options.invoke(functionArn, event)) as CfRequest | CfResponse;
  }

  /**
   * The origin request to the S3 emulator, path-style: the viewer's request, as the edge function
   * left it, handed to the emulator's handler with its body unread, so the emulator streams it to
   * disk as it arrives; the answer comes back as a stream too.
   */
  private async fetchFromS3(
    origin: LocalOrigin,
    toOrigin: CfRequest,
    viewer: IncomingMessage,
  ): Promise<InProcessResponse | undefined> {
    const headers = fromCfHeaders(toOrigin.headers);
    delete headers.host;
    for (const [name, values] of Object.entries(origin.customHeaders)) headers[name] = values[0]?.value ?? '';
    viewer.method = toOrigin.method;
    viewer.url = `/${origin.bucket}${origin.originPath}${toOrigin.uri}${toOrigin.querystring ? `?${toOrigin.querystring}` : ''}`;
    viewer.headers = headers;
    const answer = new InProcessResponse(viewer);
    void this.options.s3(viewer, answer as unknown as ServerResponse);
    try {
      await answer.head;
    } catch (error) {
      if (viewer.destroyed) return undefined;
      throw error;
    }
    return answer;
  }
}

interface DistributionConfig {
  Origins?: Array<{
    Id: string;
    DomainName: unknown;
    OriginPath?: string;
    S3OriginConfig?: unknown;
    OriginCustomHeaders?: Array<{ HeaderName: string; HeaderValue: unknown }>;
  }>;
  DefaultCacheBehavior: CacheBehavior;
  CacheBehaviors?: CacheBehavior[];
}

interface CacheBehavior {
  PathPattern?: string;
  TargetOriginId: string;
  AllowedMethods?: string[];
  FunctionAssociations?: Array<{ EventType: string; FunctionARN: unknown }>;
  LambdaFunctionAssociations?: Array<{ EventType: string; LambdaFunctionARN: unknown }>;
  ResponseHeadersPolicyId?: unknown;
}

interface ResponseHeadersPolicyConfig {
  SecurityHeadersConfig?: {
    ContentSecurityPolicy?: { ContentSecurityPolicy: string; Override: boolean };
    ContentTypeOptions?: { Override: boolean };
    FrameOptions?: { FrameOption: string; Override: boolean };
    ReferrerPolicy?: { ReferrerPolicy: string; Override: boolean };
    StrictTransportSecurity?: {
      AccessControlMaxAgeSec: number;
      IncludeSubdomains?: boolean;
      Preload?: boolean;
      Override: boolean;
    };
    XSSProtection?: { Protection: boolean; ModeBlock?: boolean; ReportUri?: string; Override: boolean };
  };
  CustomHeadersConfig?: { Items: Array<{ Header: string; Value: string; Override: boolean }> };
}

/**
 * Adds a response headers policy's headers to whatever answers the request (an origin, a function):
 * a header the answer sets itself keeps the answer's value unless the policy overrides it.
 */
function addResponseHeaders(response: ServerResponse, headers: readonly PolicyHeader[]): void {
  if (headers.length === 0) return;
  for (const header of headers) response.setHeader(header.name, header.value);
  const overridden = new Set(headers.filter((header) => header.override).map((header) => header.name));
  const writeHead = response.writeHead.bind(response) as (...args: unknown[]) => ServerResponse;
  response.writeHead = ((...args: unknown[]) => {
    for (const arg of args) {
      if (arg === null || typeof arg !== 'object' || Array.isArray(arg)) continue;
      const given = arg as Record<string, unknown>;
      for (const name of Object.keys(given)) if (overridden.has(name.toLowerCase())) delete given[name];
    }
    return writeHead(...args);
  }) as ServerResponse['writeHead'];
}

/** The headers a response headers policy adds, as CloudFront writes them. */
function policyHeaders(config: ResponseHeadersPolicyConfig): PolicyHeader[] {
  const security = config.SecurityHeadersConfig ?? {};
  const out: PolicyHeader[] = [];
  const add = (name: string, value: string, override: boolean) => out.push({ name, value, override });
  if (security.ContentSecurityPolicy) {
    const { ContentSecurityPolicy: value, Override } = security.ContentSecurityPolicy;
    add('content-security-policy', value, Override);
  }
  if (security.ContentTypeOptions)
    add('x-content-type-options', 'nosniff', security.ContentTypeOptions.Override);
  if (security.FrameOptions)
    add('x-frame-options', security.FrameOptions.FrameOption, security.FrameOptions.Override);
  if (security.ReferrerPolicy) {
    add('referrer-policy', security.ReferrerPolicy.ReferrerPolicy, security.ReferrerPolicy.Override);
  }
  const hsts = security.StrictTransportSecurity;
  if (hsts) {
    const value = [
      `max-age=${hsts.AccessControlMaxAgeSec}`,
      ...(hsts.IncludeSubdomains ? ['includeSubDomains'] : []),
      ...(hsts.Preload ? ['preload'] : []),
    ].join('; ');
    add('strict-transport-security', value, hsts.Override);
  }
  const xss = security.XSSProtection;
  if (xss) {
    const value = xss.Protection
      ? [
          '1',
          ...(xss.ModeBlock ? ['mode=block'] : []),
          ...(xss.ReportUri ? [`report=${xss.ReportUri}`] : []),
        ].join('; ')
      : '0';
    add('x-xss-protection', value, xss.Override);
  }
  for (const item of config.CustomHeadersConfig?.Items ?? [])
    add(item.Header.toLowerCase(), item.Value, item.Override);
  return out;
}

/** CloudFront's path patterns: `*` any run of characters (`/` included), `?` one; case-sensitive. */
export function pathPatternRegExp(pattern: string): RegExp {
  const absolute = pattern.startsWith('/') ? pattern : `/${pattern}`;
  const source = absolute
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`);
}

/** Hop-by-hop headers no proxy passes on. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'te',
]);

function toCfHeaders(headers: IncomingHttpHeaders, overrides: Record<string, string | undefined>): CfHeaders {
  const out: CfHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    out[name] = (Array.isArray(value) ? value : [value]).map((item) => ({ key: name, value: String(item) }));
  }
  for (const [name, value] of Object.entries(overrides))
    if (value !== undefined) out[name] = [{ key: name, value }];
  return out;
}

function fromCfHeaders(headers: CfHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, values] of Object.entries(headers)) {
    if (HOP_BY_HOP.has(name)) continue;
    out[name] = values.map((value) => value.value).join(', ');
  }
  return out;
}

function writeCf(response: ServerResponse, answer: CfResponse): void {
  const body =
    answer.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(answer.body, answer.bodyEncoding === 'base64' ? 'base64' : 'utf8');
  const headers = fromCfHeaders(answer.headers);
  headers['content-length'] = String(body.length);
  response.writeHead(Number(answer.status), headers);
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
  });
  response.end(payload);
}
