import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** The JSON lines of the model server's capture objects, in the order of `keys`. */
export async function readCaptureLines(
  s3: S3Client,
  bucket: string,
  keys: ReadonlyArray<string | undefined>,
): Promise<Array<Record<string, unknown>>> {
  const lines: Array<Record<string, unknown>> = [];
  for (const key of keys) {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const text = (await object.Body?.transformToString()) ?? '';
    lines.push(
      ...text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    );
  }
  return lines;
}
