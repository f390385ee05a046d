import { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3Client } from '../../platform/aws/s3.ts';
import { proxyPathOfArtifactUri } from '../../tracking/artifacts/artifact-path.ts';
import { DatasetUnreadableError } from '../errors.ts';
import type { ArtifactFiles, DatasetReader } from '../ports.ts';

const S3_URI = /^s3:\/\/([^/]+)\/(.+)$/;

/**
 * Datasets in S3: `s3://bucket/key` objects (the pipeline's role must be granted the bucket), and
 * `mlflow-artifacts:/path` files, which are in the artifact bucket under the artifact proxy's keys.
 */
export class S3DatasetReader implements DatasetReader {
  constructor(
    private readonly artifacts: ArtifactFiles,
    private readonly client: S3Client = s3Client(),
  ) {}

  async read(uri: string, maxBytes: number): Promise<Uint8Array | 'too-large' | undefined> {
    const proxied = proxyPathOfArtifactUri(uri);
    if (proxied !== undefined) return this.artifacts.read(proxied, maxBytes);
    const match = S3_URI.exec(uri);
    if (!match) throw new DatasetUnreadableError(`Unsupported dataset URI ${uri}`);
    const [, bucket, key] = match;
    try {
      const output = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if ((output.ContentLength ?? 0) > maxBytes) {
        if (output.Body instanceof Readable) output.Body.destroy();
        return 'too-large';
      }
      return (await output.Body?.transformToByteArray()) ?? new Uint8Array(0);
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'NoSuchKey') return undefined;
      if (name === 'AccessDenied' || name === 'NoSuchBucket') {
        throw new DatasetUnreadableError(
          `Cannot read ${uri} (${name}): the pipeline may read only the artifact bucket and the buckets its construct was given`,
        );
      }
      throw error;
    }
  }
}
