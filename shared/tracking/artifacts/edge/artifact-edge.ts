import type { CloudFrontRequest, CloudFrontResultResponse } from 'aws-lambda';
import type { AccessControl } from '../../../access/access-control.ts';
import type { Authentication } from '../../../access/authenticator.ts';
import type { Principal } from '../../../access/model.ts';
import { ruleFor } from '../../../access/policies.ts';
import { refusedError } from '../../../access/principal.ts';
import {
  InvalidParameterError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  UnauthenticatedError,
} from '../../../platform/errors.ts';
import { type ApiResponse, errorResponse, json } from '../../../platform/http/error-response.ts';
import type { Logger } from '../../../platform/logger.ts';
import type { ArtifactService } from '../artifact.service.ts';
import { baseName, preview, validateDirectoryPath, validateFilePath } from '../artifact-path.ts';
import { attachmentDisposition, guessContentType } from '../content-type.ts';
import { MAX_SINGLE_PUT_BYTES } from '../model.ts';
import type { CloudFrontHeaderMap } from './edge-config.ts';

/**
 * The proxy paths the edge serves, as the distribution routes them (`<prefix>*`). The listing
 * (`.../mlflow-artifacts/artifacts?path=`, no trailing slash) and everything else stays with the API.
 */
export const EDGE_ARTIFACT_PREFIXES = [
  '/api/2.0/mlflow-artifacts/artifacts/',
  '/ajax-api/2.0/mlflow-artifacts/artifacts/',
] as const;

/** The operations as the API routes declare them (their access rules are the API's own). */
const ROUTE = 'mlflow-artifacts/artifacts/{artifact_path+}';
const METHODS = ['GET', 'HEAD', 'PUT', 'DELETE'] as const;

export interface ArtifactEdgeDeps {
  /** Checks an `Authorization` header (a Runway token, as the token API's authorizer does). */
  authenticate: (header: string | undefined) => Promise<Authentication>;
  access: AccessControl;
  /** Deletes (a file or a directory tree), as the API's DELETE does. */
  service: Pick<ArtifactService, 'delete'>;
  /** Keys are `<keyPrefix>/<artifact path>`. */
  keyPrefix: string;
  logger: Logger;
}

/**
 * MLflow's artifact proxy at the edge (Lambda@Edge on the distribution's artifact behaviour): a
 * single `PUT` of any size up to S3's 5 GiB and a `GET` of any size travel between the client and
 * the artifact bucket without passing through API Gateway or Lambda (10 MB and 6 MB). Before a byte
 * is stored or read it does what the API does first: the token (the authorizer's check), the path
 * (the API's validator) and the permission (the API's own access rule for the route: READ to read,
 * EDIT to upload, MANAGE to delete). It never reads the body. Every refusal is MLflow's JSON error.
 */
export class ArtifactEdge {
  constructor(private readonly deps: ArtifactEdgeDeps) {}

  /**
   * The origin-request event: the request rewritten for the bucket (URI = the object's key, only the
   * headers S3 should see), or the answer itself (a refusal, or a deletion's `{}`).
   */
  async originRequest(
    request: CloudFrontRequest,
    requestId: string,
  ): Promise<CloudFrontRequest | CloudFrontResultResponse> {
    try {
      return await this.route(request);
    } catch (error) {
      const answer = errorResponse(error, requestId);
      if (answer.statusCode >= 500) {
        this.deps.logger.error('artifact edge request failed', { error, requestId, method: request.method });
      }
      return toCloudFront(answer);
    }
  }

  private async route(request: CloudFrontRequest): Promise<CloudFrontRequest | CloudFrontResultResponse> {
    const method = request.method.toUpperCase();
    if (!(METHODS as readonly string[]).includes(method)) {
      throw new MethodNotAllowedError(
        `${method} is not allowed on ${preview(request.uri)}; use ${METHODS.join(', ')}`,
        METHODS,
      );
    }
    // Who calls first, as the API does: an unauthenticated caller learns nothing else.
    const principal = await this.principalOf(header(request.headers, 'authorization'));
    const raw = artifactPathOf(request.uri);
    // A file for reads and writes; a deletion takes a directory too (the API's DELETE does).
    const path = method === 'DELETE' ? validateDirectoryPath(raw) : validateFilePath(raw);
    const rule = ruleFor(method === 'HEAD' ? 'GET' : method, ROUTE);
    await this.deps.access.authorize(principal, rule, { artifact_path: path });
    if (method === 'DELETE') {
      await this.deps.service.delete(path);
      return toCloudFront(json(200, {}));
    }
    if (method === 'PUT') checkUploadSize(path, header(request.headers, 'content-length'));
    return this.toBucket(request, method, path);
  }

  private async principalOf(authorization: string | undefined): Promise<Principal> {
    if (authorization && /^AWS4-HMAC-SHA256\s/i.test(authorization)) {
      throw new UnauthenticatedError(
        'SigV4-signed requests are served at the IAM API URL (the stack output ApiUrl), not at this URL: ' +
          'send a Runway token here (MLFLOW_TRACKING_TOKEN), or point MLFLOW_TRACKING_URI at ApiUrl',
      );
    }
    const result = await this.deps.authenticate(authorization);
    if (result.ok) return result.principal;
    this.deps.logger.info('credential refused', { reason: result.reason, tokenId: result.tokenId });
    throw refusedError(result.reason);
  }

  /** The request as the bucket gets it: the object's key, and none of the viewer's credentials or S3 options. */
  private toBucket(request: CloudFrontRequest, method: string, path: string): CloudFrontRequest {
    const headers: CloudFrontHeaderMap = {};
    for (const [name, values] of Object.entries(request.headers)) {
      // The viewer's credentials and any S3 option it might slip in (ACLs, tagging, redirects,
      // encryption, checksums of its choosing) never reach the bucket: only what S3 needs to store
      // or serve the bytes, and what the edge sets itself.
      if (name === 'authorization' || name === 'cookie' || name.startsWith('x-amz-')) continue;
      headers[name] = values;
    }
    if (method === 'PUT') {
      set(headers, 'content-type', guessContentType(baseName(path)));
      // CloudFront signs the origin request (origin access control); S3 takes an unsigned payload
      // over HTTPS, so nobody has to hash a multi-gigabyte body before it is sent.
      set(headers, 'x-amz-content-sha256', 'UNSIGNED-PAYLOAD');
    }
    // The origin itself is left as it is (its custom headers reach S3, which ignores them): a changed
    // origin is an origin redirect, which origin access control does not sign.
    return { ...request, uri: `/${objectKey(this.deps.keyPrefix, path)}`, querystring: '', headers };
  }
}

/**
 * The origin-response event: S3's answers in MLflow's shape. A download gets MLflow's headers
 * (its content type by name, always an attachment, `nosniff`); an upload answers `{}` as the API
 * does; S3's errors (XML) become MLflow's JSON errors. The request is the one sent to the bucket:
 * its URI is the object's key, whose last segment is the file's name.
 */
export function artifactOriginResponse(
  request: CloudFrontRequest,
  response: { status: string; statusDescription?: string; headers: CloudFrontHeaderMap },
): CloudFrontResultResponse {
  const path = safeDecode(request.uri.replace(/^\/+/, ''));
  const status = Number(response.status);
  const headers: CloudFrontHeaderMap = {};
  for (const [name, values] of Object.entries(response.headers)) {
    // S3's request ids, version ids and encryption settings are the bucket's business.
    if (!name.startsWith('x-amz-')) headers[name] = values;
  }
  const method = request.method.toUpperCase();
  if (status >= 200 && status < 300 && method === 'PUT') return toCloudFront(json(200, {}));
  if ((status >= 200 && status < 300) || status === 304) {
    const name = baseName(path);
    set(headers, 'content-type', guessContentType(name));
    set(headers, 'content-disposition', attachmentDisposition(name));
    set(headers, 'x-content-type-options', 'nosniff');
    return { status: response.status, statusDescription: response.statusDescription, headers };
  }
  return toCloudFront(s3Failure(status, path, method));
}

/**
 * The artifact path of a proxy URI, decoded once as the API decodes paths. A trailing slash is kept:
 * a file's path refuses it (it names a directory), a deletion's trims it.
 */
export function artifactPathOf(uri: string): string {
  const prefix = EDGE_ARTIFACT_PREFIXES.find((candidate) => uri.startsWith(candidate));
  if (!prefix) throw new InvalidParameterError(`Not an artifact path: '${preview(uri)}'`);
  let decoded: string;
  try {
    decoded = decodeURIComponent(uri.slice(prefix.length));
  } catch {
    throw new InvalidParameterError(`Invalid path '${preview(uri)}': it is not valid percent-encoding`);
  }
  return decoded;
}

/** The object key of an artifact path, each segment encoded as S3's canonical URI wants it. */
export function objectKey(keyPrefix: string, path: string): string {
  const key = keyPrefix === '' ? path : `${keyPrefix}/${path}`;
  return key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment).replace(
        /[!'()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join('/');
}

/**
 * One PUT carries at most S3's 5 GiB, and S3 needs its length up front. Both are refused before a
 * byte is stored, with what to do instead.
 */
function checkUploadSize(path: string, contentLength: string | undefined): void {
  if (contentLength === undefined || !/^\d+$/.test(contentLength)) {
    throw new InvalidParameterError(
      `Artifact '${preview(path)}' was sent without a Content-Length; a single upload must declare its size ` +
        "(MLflow's client always does: upload the file, not a stream)",
    );
  }
  const size = Number(contentLength);
  if (size > MAX_SINGLE_PUT_BYTES) {
    throw new PayloadTooLargeError(
      `Artifact '${preview(path)}' is ${size} bytes; a single upload is limited to ${MAX_SINGLE_PUT_BYTES} bytes ` +
        "(S3's largest PUT). Log larger files by multipart upload: set MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true " +
        "in the client's environment (files from MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE, 500 MB by default, " +
        'then go in parts straight to storage).',
    );
  }
}

/** S3's error statuses as MLflow's errors (S3's own XML body is not shown to the client). */
function s3Failure(status: number, path: string, method: string): ApiResponse {
  // Without s3:ListBucket, S3 answers 403 for a key that does not exist: both are a missing artifact.
  if ((status === 403 || status === 404) && method !== 'PUT') {
    return json(404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: `No artifact at '${preview(path)}'` });
  }
  if (status === 412 || status === 416) {
    return json(status, {
      error_code: 'INVALID_PARAMETER_VALUE',
      message:
        status === 412 ? 'A precondition of the request failed' : 'The requested range is not satisfiable',
    });
  }
  if (status === 503 || status === 500) {
    return json(
      503,
      { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'Storage is busy; retry the request shortly' },
      { 'retry-after': '1' },
    );
  }
  return json(status >= 500 ? 502 : status, {
    error_code: status >= 500 ? 'INTERNAL_ERROR' : 'INVALID_PARAMETER_VALUE',
    message: `Storage refused the ${method} of '${preview(path)}' (HTTP ${status})`,
  });
}

function toCloudFront(answer: ApiResponse): CloudFrontResultResponse {
  const headers: CloudFrontHeaderMap = {};
  for (const [name, value] of Object.entries(answer.headers)) set(headers, name.toLowerCase(), value);
  set(headers, 'cache-control', 'no-store');
  return {
    status: String(answer.statusCode),
    statusDescription: STATUS_TEXT[answer.statusCode] ?? '',
    headers,
    body: answer.body,
    bodyEncoding: 'text',
  };
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  416: 'Range Not Satisfiable',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

function header(headers: CloudFrontHeaderMap, name: string): string | undefined {
  return headers[name]?.[0]?.value;
}

function set(headers: CloudFrontHeaderMap, name: string, value: string): void {
  headers[name] = [{ key: name, value }];
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
