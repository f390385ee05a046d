import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { s3Client, s3PresignClient } from '../../../platform/aws/s3.ts';
import { InvalidParameterError, ResourceDoesNotExistError } from '../../../platform/errors.ts';
import type { ArtifactEntry, UploadedPart } from '../model.ts';
import type { ArtifactListPage, ArtifactStore } from '../ports.ts';

export interface S3ArtifactStoreOptions {
  bucket: string;
  /** Keys are `<keyPrefix>/<artifact path>`; without a prefix, the artifact path itself. @default '' */
  keyPrefix?: string;
  /** @default the container's shared client */
  client?: S3Client;
  /** Signs the URLs clients call directly. @default the container's presigning client */
  presigner?: S3Client;
}

/** S3 answers these when the parts named in a completion do not add up to an object. */
const REFUSED_PARTS = new Set(['InvalidPart', 'InvalidPartOrder', 'EntityTooSmall', 'EntityTooLarge']);

/**
 * Artifacts in the artifact bucket, one object per file at the key of its artifact path, so that
 * listings are ListObjectsV2 with a `/` delimiter and a directory is a key prefix. S3 errors a client
 * can cause become domain errors here; anything else is left to the error mapper (throttling is 503).
 */
export class S3ArtifactStore implements ArtifactStore {
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly client: S3Client;
  private readonly presigner: S3Client;

  constructor(options: S3ArtifactStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = (options.keyPrefix ?? '').replace(/^\/+|\/+$/g, '');
    this.client = options.client ?? s3Client();
    this.presigner = options.presigner ?? s3PresignClient();
  }

  async write(path: string, body: Uint8Array, contentType: string): Promise<void> {
    await this.client
      .send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key(path),
          Body: body,
          ContentType: contentType,
        }),
      )
      .catch((error: unknown) => rethrow(error, path));
  }

  async read(path: string, maxBytes: number): Promise<Uint8Array | 'too-large' | undefined> {
    let output: GetObjectCommandOutput;
    try {
      output = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(path) }));
    } catch (error) {
      if (errorName(error) === 'NoSuchKey') return undefined;
      return rethrow(error, path);
    }
    const body = output.Body;
    if (!(body instanceof Readable)) return new Uint8Array(0);
    if ((output.ContentLength ?? 0) > maxBytes) {
      // Stop the transfer at once: the client is about to fetch the object from S3 itself.
      body.destroy();
      return 'too-large';
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        body.destroy();
        return 'too-large';
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks, size);
  }

  downloadUrl(
    path: string,
    options: { expiresInSeconds: number; contentType: string; contentDisposition: string },
  ): Promise<string> {
    return getSignedUrl(
      this.presigner,
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: this.key(path),
        // S3 answers with the headers MLflow's server would send for the file.
        ResponseContentType: options.contentType,
        ResponseContentDisposition: options.contentDisposition,
      }),
      { expiresIn: options.expiresInSeconds },
    );
  }

  async listPage(directory: string, pageToken: string | undefined): Promise<ArtifactListPage> {
    const base = directory === '' && this.prefix === '' ? '' : `${this.key(directory)}/`;
    const output = await this.client
      .send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: base,
          Delimiter: '/',
          ContinuationToken: pageToken,
          MaxKeys: 1000,
        }),
      )
      .catch((error: unknown) => {
        if (pageToken !== undefined && errorName(error) === 'InvalidArgument') {
          throw new InvalidParameterError('Invalid page token: storage refused it');
        }
        throw error;
      });
    const entries: ArtifactEntry[] = [];
    for (const common of output.CommonPrefixes ?? []) {
      const name = common.Prefix?.slice(base.length, -1);
      if (name) entries.push({ name, isDir: true });
    }
    for (const object of output.Contents ?? []) {
      // A key ending in `/` (a folder marker some tools write) is the directory itself, not a file.
      const name = object.Key?.slice(base.length);
      if (name && !name.endsWith('/')) entries.push({ name, isDir: false, size: object.Size ?? 0 });
    }
    return { entries, nextPageToken: output.IsTruncated ? output.NextContinuationToken : undefined };
  }

  async deleteTree(path: string): Promise<void> {
    const key = this.key(path);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    // List from the start each time: what was listed is deleted before the next round.
    for (;;) {
      const listed = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${key}/`, MaxKeys: 1000 }),
      );
      const objects = (listed.Contents ?? []).flatMap((object) => (object.Key ? [{ Key: object.Key }] : []));
      if (objects.length === 0) return;
      const deleted = await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: objects, Quiet: true } }),
      );
      const failure = deleted.Errors?.[0];
      if (failure) {
        throw new Error(
          `S3 did not delete ${deleted.Errors?.length} objects under '${key}/', e.g. '${failure.Key}': ${failure.Code} ${failure.Message}`,
        );
      }
      if (!listed.IsTruncated) return;
    }
  }

  async startMultipartUpload(path: string, contentType: string): Promise<string> {
    const output = await this.client
      .send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.key(path),
          ContentType: contentType,
        }),
      )
      .catch((error: unknown) => rethrow(error, path));
    if (!output.UploadId) throw new Error(`S3 started a multipart upload of '${path}' without an upload id`);
    return output.UploadId;
  }

  partUploadUrl(
    path: string,
    uploadId: string,
    partNumber: number,
    expiresInSeconds: number,
  ): Promise<string> {
    return getSignedUrl(
      this.presigner,
      new UploadPartCommand({
        Bucket: this.bucket,
        Key: this.key(path),
        UploadId: uploadId,
        PartNumber: partNumber,
      }),
      { expiresIn: expiresInSeconds },
    );
  }

  async completeMultipartUpload(
    path: string,
    uploadId: string,
    parts: readonly UploadedPart[],
  ): Promise<void> {
    try {
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.key(path),
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })) },
        }),
      );
    } catch (error) {
      const name = errorName(error);
      if (name === 'NoSuchUpload') {
        throw new ResourceDoesNotExistError(
          `No multipart upload '${uploadId}' of '${path}' is in progress (unknown, completed or aborted)`,
        );
      }
      if (name !== undefined && REFUSED_PARTS.has(name)) {
        throw new InvalidParameterError(
          `Cannot complete the multipart upload of '${path}': ${name}: ${(error as Error).message}`,
        );
      }
      rethrow(error, path);
    }
  }

  async abortMultipartUpload(path: string, uploadId: string): Promise<void> {
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key(path), UploadId: uploadId }),
      );
    } catch (error) {
      if (errorName(error) !== 'NoSuchUpload') throw error;
    }
  }

  /**
   * `s3://<bucket>/<prefix>/<path>` names `<path>` when the bucket is this store's and the key lies
   * under its prefix (also with a trailing slash). Keys outside the prefix are not artifacts the
   * proxy serves, even in the same bucket.
   */
  pathOf(uri: string): string | undefined {
    const parsed = /^s3:\/\/([^/?#]+)(?:\/([^?#]*))?$/i.exec(uri);
    if (!parsed || parsed[1] !== this.bucket) return undefined;
    const key = (parsed[2] ?? '').replace(/\/+$/, '');
    if (this.prefix === '') return key;
    if (key === this.prefix) return '';
    return key.startsWith(`${this.prefix}/`) ? key.slice(this.prefix.length + 1) : undefined;
  }

  private key(path: string): string {
    if (this.prefix === '') return path;
    return path === '' ? this.prefix : `${this.prefix}/${path}`;
  }
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** A key over S3's 1024 bytes (the path plus the configured prefix) is the client's long path. */
function rethrow(error: unknown, path: string): never {
  if (errorName(error) === 'KeyTooLongError') {
    throw new InvalidParameterError(`Invalid path '${path.slice(0, 200)}': it is too long to store`);
  }
  throw error;
}
