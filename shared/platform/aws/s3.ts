import { S3Client } from '@aws-sdk/client-s3';

let s3: S3Client | undefined;

/**
 * The S3 client, once per container. Against an IP endpoint (the local emulator) the SDK addresses
 * buckets by path; against AWS by virtual host.
 */
export function s3Client(): S3Client {
  s3 ??= new S3Client({ maxAttempts: 5 });
  return s3;
}
