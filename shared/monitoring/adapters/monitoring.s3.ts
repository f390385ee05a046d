import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { S3DatasetReader } from '../../pipelines/adapters/dataset.s3-reader.ts';
import { s3Client } from '../../platform/aws/s3.ts';
import { S3ArtifactStore } from '../../tracking/artifacts/adapters/artifact.s3-store.ts';
import { proxyPathOfArtifactUri } from '../../tracking/artifacts/artifact-path.ts';
import { MonitorRunError } from '../errors.ts';
import type { FeedbackRecord } from '../model.ts';
import type { ArtifactReader, ArtifactWriter, FeedbackWriter, ObjectSource } from '../ports.ts';
import { FEEDBACK_ROOT } from '../run/window-analysis.ts';

/** The model server writes capture in objects of at most 5 MiB; anything far larger is not capture. */
const MAX_OBJECT_BYTES = 64 * 1024 * 1024;

/**
 * Capture and feedback objects of the artifact bucket: ListObjectsV2 pages of a prefix, and objects
 * read whole (each is at most a few MiB: the run reads a few ahead, never the window).
 */
export class S3ObjectSource implements ObjectSource {
  readonly requests: Record<string, number> = { ListObjectsV2: 0, GetObject: 0 };

  constructor(
    private readonly bucket: string,
    private readonly client: S3Client = s3Client(),
  ) {}

  async *list(prefix: string): AsyncIterable<string> {
    let token: string | undefined;
    do {
      this.requests.ListObjectsV2 = (this.requests.ListObjectsV2 ?? 0) + 1;
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) if (object.Key) yield object.Key;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async read(key: string): Promise<string> {
    this.requests.GetObject = (this.requests.GetObject ?? 0) + 1;
    const output = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    if ((output.ContentLength ?? 0) > MAX_OBJECT_BYTES) {
      if (output.Body instanceof Readable) output.Body.destroy();
      throw new MonitorRunError(
        `${key} is ${output.ContentLength} bytes; capture and feedback objects are at most ${MAX_OBJECT_BYTES}`,
      );
    }
    return (await output.Body?.transformToString('utf8')) ?? '';
  }
}

/**
 * Feedback as JSON lines under `serving-feedback/<endpoint>/<yyyy>/<mm>/<dd>/<hh>/` (the hour of the
 * invocation each line labels), one object per request and hour, named by the time it arrived so
 * that a listing is in arrival order.
 */
export class S3FeedbackWriter implements FeedbackWriter {
  constructor(
    private readonly bucket: string,
    private readonly client: S3Client = s3Client(),
  ) {}

  async write(endpointName: string, hourPath: string, records: readonly FeedbackRecord[]): Promise<void> {
    const first = records[0];
    if (!first) return;
    const key = `${FEEDBACK_ROOT}/${endpointName}/${hourPath}/${String(first.receivedAt).padStart(13, '0')}-${randomUUID()}.jsonl`;
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: `${records.map((record) => JSON.stringify(record)).join('\n')}\n`,
        ContentType: 'application/x-ndjson',
      }),
    );
  }
}

/**
 * What a run reads whole (baselines by URI, `MLmodel` files, prediction references) and writes (its
 * report, as artifacts of its MLflow run; its monitor's state under `monitoring/<monitor>/`).
 */
export class MonitorArtifacts implements ArtifactReader, ArtifactWriter {
  private readonly store: S3ArtifactStore;
  private readonly reader: S3DatasetReader;

  constructor(
    private readonly bucket: string,
    keyPrefix: string,
    private readonly client: S3Client = s3Client(),
  ) {
    this.store = new S3ArtifactStore({ bucket, keyPrefix, client });
    this.reader = new S3DatasetReader(this.store, client);
  }

  read(uri: string, maxBytes: number): Promise<Uint8Array | 'too-large' | undefined> {
    return this.reader.read(uri, maxBytes);
  }

  async writeRunArtifact(
    artifactUri: string,
    relative: string,
    body: Uint8Array,
    contentType: string,
  ): Promise<string> {
    const root = proxyPathOfArtifactUri(artifactUri);
    if (root === undefined)
      throw new Error(`The run's artifact URI ${artifactUri} is not in the artifact store`);
    await this.store.write(`${root}/${relative}`, body, contentType);
    return `${artifactUri.replace(/\/+$/, '')}/${relative}`;
  }

  async writeState(monitorName: string, relative: string, body: Uint8Array): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: `monitoring/${monitorName}/${relative}`,
        Body: body,
        ContentType: 'application/json',
      }),
    );
  }

  async readState(monitorName: string, relative: string): Promise<Uint8Array | undefined> {
    const bytes = await this.read(
      `s3://${this.bucket}/monitoring/${monitorName}/${relative}`,
      16 * 1024 * 1024,
    );
    return bytes instanceof Uint8Array ? bytes : undefined;
  }
}
