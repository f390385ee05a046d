import { S3Client } from '@aws-sdk/client-s3';

const clients = new Map<string, S3Client>();
let presigner: S3Client | undefined;

/**
 * The S3 client, once per container (and per region, for a function that runs away from its bucket:
 * Lambda@Edge). Against an IP endpoint (the local emulator) the SDK addresses buckets by path;
 * against AWS by virtual host.
 */
export function s3Client(region?: string): S3Client {
  const key = region ?? '';
  let client = clients.get(key);
  if (!client) {
    client = new S3Client({ maxAttempts: 5, ...(region ? { region } : {}) });
    clients.set(key, client);
  }
  return client;
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
