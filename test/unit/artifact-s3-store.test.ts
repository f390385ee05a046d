import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../shared/tracking/artifacts/adapters/artifact.s3-store.ts';

/** `pathOf` is pure: no request is sent, so an unconfigured client is enough. */
const client = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const store = (keyPrefix?: string) =>
  new S3ArtifactStore({ bucket: 'runway-artifacts', keyPrefix, client, presigner: client });

afterAll(() => client.destroy());

describe('S3ArtifactStore.pathOf: which s3:// roots are this store', () => {
  it('maps URIs in its bucket to artifact paths, without a key prefix', () => {
    const own = store();
    expect(own.pathOf('s3://runway-artifacts/5/abc/artifacts')).toBe('5/abc/artifacts');
    expect(own.pathOf('s3://runway-artifacts/5/abc/artifacts/')).toBe('5/abc/artifacts');
    expect(own.pathOf('S3://runway-artifacts/x')).toBe('x');
    expect(own.pathOf('s3://runway-artifacts')).toBe('');
    expect(own.pathOf('s3://runway-artifacts/')).toBe('');
  });

  it('maps only keys under its prefix, never a namesake of the prefix', () => {
    const prefixed = store('mlflow');
    expect(prefixed.pathOf('s3://runway-artifacts/mlflow/5/abc/artifacts')).toBe('5/abc/artifacts');
    expect(prefixed.pathOf('s3://runway-artifacts/mlflow')).toBe('');
    expect(prefixed.pathOf('s3://runway-artifacts/mlflow-other/5')).toBeUndefined();
    expect(prefixed.pathOf('s3://runway-artifacts/5/abc')).toBeUndefined();
  });

  it('refuses other buckets, other schemes and URIs with a query or fragment', () => {
    const own = store();
    for (const uri of [
      's3://other-bucket/5/abc',
      's3://runway-artifacts-2/5',
      'gs://runway-artifacts/5',
      's3a://runway-artifacts/5',
      'mlflow-artifacts:/5/abc',
      's3://runway-artifacts/5?versionId=1',
      's3://runway-artifacts/5#x',
      's3:///5',
    ]) {
      expect(own.pathOf(uri), uri).toBeUndefined();
    }
  });
});
