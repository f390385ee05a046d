import {
  InvalidParameterError,
  NotImplementedError,
  PayloadTooLargeError,
  ResourceDoesNotExistError,
} from '../../platform/errors.ts';
import { isModelId } from '../logged-models/model.ts';
import {
  baseName,
  fileNameOf,
  hasControlCharacter,
  joinPath,
  preview,
  proxyPathOfArtifactUri,
  validateDirectoryPath,
  validateFilePath,
} from './artifact-path.ts';
import { attachmentDisposition, guessContentType } from './content-type.ts';
import {
  type ArtifactEntry,
  type ArtifactLimits,
  DEFAULT_LIMITS,
  type Download,
  MAX_JSON_RESPONSE_BYTES,
  MAX_PARTS,
  type PartUploadCredential,
  type UploadedPart,
} from './model.ts';
import type { ArtifactStore, LoggedModelArtifactLocator, RunArtifactLocator } from './ports.ts';

export interface ArtifactServiceDeps {
  store: ArtifactStore;
  runs: RunArtifactLocator;
  loggedModels: LoggedModelArtifactLocator;
  /** @default DEFAULT_LIMITS */
  limits?: Partial<ArtifactLimits>;
}

/**
 * A run's or a logged model's artifacts as MLflow's `ListArtifacts` and `ListLoggedModelArtifacts`
 * answer: paths relative to the artifact root.
 */
export interface RootArtifactListing {
  rootUri: string;
  files: Array<{ path: string; isDir: boolean; size?: number }>;
  nextPageToken?: string | undefined;
}

export interface MultipartUpload {
  uploadId: string;
  credentials: PartUploadCredential[];
}

/**
 * A listing stops reading further pages past this much JSON; the store's pages (at most 1000 entries
 * of at most ~1 KiB each) can overshoot it by about 1 MiB, which still fits a Lambda response.
 */
const LISTING_BUDGET_BYTES = 4 * 1024 * 1024;
/** MLflow's run id rule (`_validate_run_id`); it also keeps a hostile id out of storage keys. */
const RUN_ID = /^[a-zA-Z0-9][\w-]{0,255}$/;
const MAX_UPLOAD_ID_LENGTH = 1024;
const MAX_PAGE_TOKEN_LENGTH = 8192;

/**
 * MLflow's proxied artifact operations (mlflow_artifacts.proto) and the run artifact listing of
 * service.proto. Files up to a few MB pass through the API; larger ones never do: they are uploaded
 * in parts to presigned URLs and downloaded by a redirect to a presigned URL, because API Gateway and
 * Lambda carry at most 6 MB.
 */
export class ArtifactService {
  private readonly store: ArtifactStore;
  private readonly runs: RunArtifactLocator;
  private readonly loggedModels: LoggedModelArtifactLocator;
  private readonly limits: ArtifactLimits;

  constructor(deps: ArtifactServiceDeps) {
    this.store = deps.store;
    this.runs = deps.runs;
    this.loggedModels = deps.loggedModels;
    this.limits = { ...DEFAULT_LIMITS, ...deps.limits };
  }

  /** The largest file `upload` stores; the upload route refuses larger bodies before reading them. */
  get maxUploadBytes(): number {
    return this.limits.maxInlineUploadBytes;
  }

  /** Stores a small file (a PUT body); larger ones must come by multipart upload. */
  async upload(path: string, body: Uint8Array | undefined): Promise<void> {
    validateFilePath(path);
    const bytes = body ?? new Uint8Array(0);
    const limit = this.limits.maxInlineUploadBytes;
    if (bytes.byteLength > limit) {
      throw new PayloadTooLargeError(
        `Artifact '${path}' is ${bytes.byteLength} bytes; uploads through the API are limited to ${limit} bytes. ` +
          multipartUploadHint(limit),
      );
    }
    await this.store.write(path, bytes, guessContentType(baseName(path)));
  }

  /** A small file's bytes with MLflow's download headers, or a short-lived URL for a larger one. */
  async download(path: string): Promise<Download> {
    validateFilePath(path);
    const name = baseName(path);
    const contentType = guessContentType(name);
    const contentDisposition = attachmentDisposition(name);
    const body = await this.store.read(path, this.limits.maxInlineDownloadBytes);
    // MLflow answers 500 INTERNAL_ERROR here.
    if (body === undefined) throw new ResourceDoesNotExistError(`No artifact at '${path}'`);
    if (body !== 'too-large') return { kind: 'inline', body, contentType, contentDisposition };
    const url = await this.store.downloadUrl(path, {
      expiresInSeconds: this.limits.downloadUrlTtlSeconds,
      contentType,
      contentDisposition,
    });
    return { kind: 'redirect', url };
  }

  /**
   * One level of a directory (`undefined` or `''` is the root), named relative to it as MLflow's
   * proxy does; a missing directory (or a file) lists as empty. This endpoint has no paging in MLflow,
   * so a directory too large for one response is refused rather than silently cut short.
   */
  async list(directory: string | undefined): Promise<ArtifactEntry[]> {
    const path = validateDirectoryPath(directory);
    const { entries, nextPageToken } = await this.collect(path, undefined, path.length);
    if (nextPageToken !== undefined) {
      throw new InvalidParameterError(
        `Directory '${path}' holds more entries than one response can carry; list its subdirectories, or page through a run's artifacts with GET /api/2.0/mlflow/artifacts/list`,
      );
    }
    return entries;
  }

  /**
   * A run's artifacts below `path` (relative to the run's artifact root), paged: `pageToken` is the
   * `nextPageToken` of the previous page, which exists only when a directory exceeds one response.
   */
  async listRun(
    runId: string,
    path: string | undefined,
    pageToken: string | undefined,
  ): Promise<RootArtifactListing> {
    if (!RUN_ID.test(runId)) throw new InvalidParameterError(`Invalid run ID: '${runId.slice(0, 300)}'`);
    const relative = validateDirectoryPath(path);
    const scope = `run:${runId}`;
    const start = decodeListToken(pageToken, scope, relative);
    const rootUri = await this.runs.artifactUri(runId);
    if (rootUri === undefined) throw new ResourceDoesNotExistError(`Run with id=${runId} not found`);
    return this.listBelowRoot(rootUri, relative, start, scope, `Run '${runId}'`);
  }

  /**
   * An MLflow 3 logged model's artifacts below `path` (relative to its artifact location), paged as
   * {@link listRun}. Unknown and deleted models are 404, as MLflow's `get_logged_model` answers.
   */
  async listLoggedModel(
    modelId: string,
    path: string | undefined,
    pageToken: string | undefined,
  ): Promise<RootArtifactListing> {
    const relative = validateDirectoryPath(path);
    const scope = `model:${modelId}`;
    const start = decodeListToken(pageToken, scope, relative);
    const rootUri = await this.loggedModelLocation(modelId);
    return this.listBelowRoot(rootUri, relative, start, scope, `Logged model '${modelId}'`);
  }

  /** A file of an MLflow 3 logged model (the UI's `logged-models/<id>/artifacts/files`), as {@link download}. */
  async downloadLoggedModelFile(modelId: string, path: string): Promise<Download> {
    const relative = validateFilePath(path);
    const rootUri = await this.loggedModelLocation(modelId);
    return this.download(joinPath(this.storePathOf(rootUri, `Logged model '${modelId}'`), relative));
  }

  /**
   * Deletes a file, or a directory  /**
   * Deletes a file, or a directory with everything below it (never a mere namesake: deleting `a`
   * leaves `a.txt`, which MLflow's S3 store would delete too). Deleting what is missing succeeds.
   */
  async delete(path: string): Promise<void> {
    const target = validateDirectoryPath(path);
    if (target === '') throw new InvalidParameterError('Refusing to delete the whole artifact root');
    await this.store.deleteTree(target);
  }

  /**
   * Starts a multipart upload of `<directory>/<name>`, MLflow's way: the URL names the directory and
   * the body's `path` (the client's local file) names the file. Answers one presigned URL per part.
   */
  async createMultipartUpload(
    directory: string,
    clientPath: string,
    numParts: number,
  ): Promise<MultipartUpload> {
    const path = multipartPath(directory, clientPath);
    if (!Number.isInteger(numParts) || numParts < 1 || numParts > MAX_PARTS) {
      throw new InvalidParameterError(
        `Invalid value ${numParts} for parameter 'num_parts' supplied: it must be between 1 and ${MAX_PARTS}`,
      );
    }
    const ttl = this.limits.uploadUrlTtlSeconds;
    const uploadId = await this.store.startMultipartUpload(path, guessContentType(baseName(path)));
    // Every URL is about as long as the last one (the longest part number); check that they fit in a
    // Lambda response before presigning thousands of them.
    const last = await this.store.partUploadUrl(path, uploadId, numParts, ttl);
    const perPart = credentialBytes({ partNumber: numParts, url: last, headers: {} });
    if (perPart * numParts > MAX_JSON_RESPONSE_BYTES) {
      // Should the abort fail, the bucket's lifecycle rule removes the upload within days; the
      // client's mistake is what it needs to hear about.
      await this.store.abortMultipartUpload(path, uploadId).catch(() => undefined);
      throw new InvalidParameterError(
        `Invalid value ${numParts} for parameter 'num_parts' supplied: the presigned URLs of at most ` +
          `${Math.floor(MAX_JSON_RESPONSE_BYTES / perPart)} parts fit in one response; upload in larger parts ` +
          '(MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE)',
      );
    }
    const credentials: PartUploadCredential[] = [];
    for (let partNumber = 1; partNumber < numParts; partNumber++) {
      const url = await this.store.partUploadUrl(path, uploadId, partNumber, ttl);
      credentials.push({ partNumber, url, headers: {} });
    }
    credentials.push({ partNumber: numParts, url: last, headers: {} });
    return { uploadId, credentials };
  }

  /** Assembles the uploaded parts into the file; parts may come in any order, each once. */
  async completeMultipartUpload(
    directory: string,
    clientPath: string,
    uploadId: string,
    parts: readonly UploadedPart[],
  ): Promise<void> {
    const path = multipartPath(directory, clientPath);
    validateUploadId(uploadId);
    if (parts.length === 0) throw new InvalidParameterError("Missing value for required parameter 'parts'.");
    if (parts.length > MAX_PARTS) {
      throw new InvalidParameterError(
        `A multipart upload has at most ${MAX_PARTS} parts, got ${parts.length}`,
      );
    }
    for (const part of parts) {
      if (!Number.isInteger(part.partNumber) || part.partNumber < 1 || part.partNumber > MAX_PARTS) {
        throw new InvalidParameterError(
          `Invalid part_number ${part.partNumber}: part numbers are between 1 and ${MAX_PARTS}`,
        );
      }
      if (part.etag.trim() === '') {
        throw new InvalidParameterError(`Missing etag of part ${part.partNumber}`);
      }
    }
    const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    const repeated = sorted.find((part, i) => i > 0 && sorted[i - 1]?.partNumber === part.partNumber);
    if (repeated) throw new InvalidParameterError(`Part ${repeated.partNumber} is listed twice`);
    await this.store.completeMultipartUpload(path, uploadId, sorted);
  }

  /** Discards an upload and its parts; aborting an unknown or finished upload succeeds, like a delete. */
  async abortMultipartUpload(directory: string, clientPath: string, uploadId: string): Promise<void> {
    const path = multipartPath(directory, clientPath);
    validateUploadId(uploadId);
    await this.store.abortMultipartUpload(path, uploadId);
  }

  private async loggedModelLocation(modelId: string): Promise<string> {
    const location = isModelId(modelId) ? await this.loggedModels.artifactLocation(modelId) : undefined;
    if (location === undefined) {
      throw new ResourceDoesNotExistError(`Logged model with ID '${preview(modelId)}' not found.`);
    }
    return location;
  }

  private async listBelowRoot(
    rootUri: string,
    relative: string,
    start: string | undefined,
    scope: string,
    owner: string,
  ): Promise<RootArtifactListing> {
    const directory = joinPath(this.storePathOf(rootUri, owner), relative);
    const { entries, nextPageToken } = await this.collect(directory, start, relative.length);
    return {
      rootUri,
      files: entries.map((entry) => ({
        path: joinPath(relative, entry.name),
        isDir: entry.isDir,
        ...(entry.size === undefined ? {} : { size: entry.size }),
      })),
      nextPageToken:
        nextPageToken === undefined ? undefined : encodeListToken(scope, relative, nextPageToken),
    };
  }

  private storePathOf(rootUri: string, owner: string): string {
    return storePathOfRoot(this.store, rootUri, owner);
  }

  /**
   * Reads pages of a directory until the listing is complete or would outgrow one response, and sorts
   * what it read by name (MLflow sorts by path; code-point order, as Python compares strings).
   */
  private async collect(
    directory: string,
    pageToken: string | undefined,
    pathPrefixLength: number,
  ): Promise<{ entries: ArtifactEntry[]; nextPageToken?: string | undefined }> {
    const entries: ArtifactEntry[] = [];
    let bytes = 0;
    let token = pageToken;
    do {
      const page = await this.store.listPage(directory, token);
      for (const entry of page.entries) {
        entries.push(entry);
        bytes += Buffer.byteLength(JSON.stringify(entry.name)) + pathPrefixLength + 64;
      }
      token = page.nextPageToken;
    } while (token !== undefined && bytes < LISTING_BUDGET_BYTES);
    return { entries: sortByName(entries), nextPageToken: token };
  }
}

function multipartPath(directory: string, clientPath: string): string {
  return validateFilePath(joinPath(validateDirectoryPath(directory), fileNameOf(clientPath)));
}

function validateUploadId(uploadId: string): void {
  if (uploadId === '') throw new InvalidParameterError("Missing value for required parameter 'upload_id'.");
  if (uploadId.length > MAX_UPLOAD_ID_LENGTH || hasControlCharacter(uploadId)) {
    throw new InvalidParameterError('Invalid upload_id');
  }
}

/** The bytes one credential takes in the JSON response, with a margin for the envelope. */
function credentialBytes(credential: PartUploadCredential): number {
  return (
    Buffer.byteLength(
      JSON.stringify({
        url: credential.url,
        part_number: credential.partNumber,
        headers: credential.headers,
      }),
    ) + 16
  );
}

function sortByName(entries: ArtifactEntry[]): ArtifactEntry[] {
  const keyed = entries.map((entry) => ({ entry, key: Buffer.from(entry.name, 'utf8') }));
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  return keyed.map(({ entry }) => entry);
}

/**
 * Listing tokens wrap the store's token with the listing they page through (`run:<id>` or
 * `model:<id>`, and the path), so a token is never applied to another listing. base64url, so they
 * survive a query string unescaped.
 */
function encodeListToken(scope: string, path: string, storeToken: string): string {
  return Buffer.from(JSON.stringify({ s: scope, p: path, t: storeToken }), 'utf8').toString('base64url');
}

function decodeListToken(token: string | undefined, scope: string, path: string): string | undefined {
  if (token === undefined || token === '') return undefined;
  const invalid = new InvalidParameterError('Invalid page token: it was not issued for this listing');
  if (token.length > MAX_PAGE_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) throw invalid;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  const { s, p, t } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<
    string,
    unknown
  >;
  if (s !== scope || p !== path || typeof t !== 'string' || t === '') throw invalid;
  return t;
}

/**
 * What a client whose file is too large for one PUT through the API should do instead: Runway's URL
 * (CloudFront), which takes one PUT of up to 5 GiB, or MLflow's multipart upload.
 */
export function multipartUploadHint(limit: number): string {
  return (
    "At Runway's URL (the RunwayUrl output, CloudFront) one PUT takes up to 5 GiB. Here, " +
    'log larger files by multipart upload (mlflow-artifacts/mpu/create): set ' +
    `MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true and MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE=${limit} ` +
    "in the client's environment."
  );
}

/**
 * Where an artifact root lies in `store`: a proxied URI (`mlflow-artifacts:/...`, the default root)
 * or a URI of the store itself (an experiment created with `s3://<bucket>/...`). MLflow's server
 * reads any other location through an artifact repository with its own credentials; Runway's
 * functions may touch only their own bucket, so that is a 501 naming why, and the client reads the
 * location directly.
 */
export function storePathOfRoot(
  store: Pick<ArtifactStore, 'pathOf'>,
  rootUri: string,
  owner: string,
): string {
  const path = proxyPathOfArtifactUri(rootUri) ?? store.pathOf(rootUri);
  if (path === undefined) {
    throw new NotImplementedError(
      `${owner} keeps its artifacts at '${preview(rootUri)}', outside Runway's artifact store: Runway serves ` +
        "mlflow-artifacts:/ URIs and s3:// URIs under its own artifact bucket's root. Read this location " +
        'directly with credentials for it.',
    );
  }
  return validateDirectoryPath(path);
}
