import { S3Client } from '@aws-sdk/client-s3';

let s3: S3Client | undefined;
let presigner: S3Client | undefined;

/**
 * The S3 client, once per container. Against an IP endpoint (the local emulator) the SDK addresses
 * buckets by path; against AWS by virtual host.
 */
export function s3Client(): S3Client {
  s3 ??= new S3Client({ maxAttempts: 5 });
  return s3;
}

/**
 * The S3 client that presigns URLs for others to call (upload parts, downloads), once per container.
 * It adds no request checksums: with the SDK's default (`WHEN_SUPPORTED`) a presigned PutObject or
 * UploadPart URL carries the CRC32 of an empty body, and S3 refuses the real upload with BadDigest.
 */
export function s3PresignClient(): S3Client {
  presigner ??= new S3Client({ requestChecksumCalculation: 'WHEN_REQUIRED' });
  return presigner;
}
