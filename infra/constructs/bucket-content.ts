import path from 'node:path';
import type { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { REPO_ROOT } from '../repo-root.ts';

/**
 * Metadata on a bucket whose objects are the files of a folder of this repository, uploaded at
 * deploy time (the console's bundle). The local runtime serves such a bucket from the folder itself,
 * as functions run from their `runway:entry`: what it serves is what `cdk deploy` uploads, with the
 * same headers, and a rebuilt folder shows at the next request.
 */
export const BUCKET_CONTENT_METADATA = 'runway:content';

/** Which files of the folder become objects, and the `Cache-Control` each is stored with. */
export interface BucketContent {
  /** The folder: relative to the repository root, or absolute when outside it. */
  directory: string;
  /** Keys by prefix, the first matching rule applying; a key no rule matches is not uploaded. */
  rules: ReadonlyArray<{ prefix: string; cacheControl: string }>;
  /** Keys ending with one of these are never uploaded (e.g. `.map`). */
  excludeSuffixes: readonly string[];
}

/** Records `content` on the bucket for the local runtime. */
export function recordBucketContent(bucket: CfnBucket, content: BucketContent): void {
  const relative = path.relative(REPO_ROOT, content.directory);
  const directory = relative.startsWith('..') || path.isAbsolute(relative) ? content.directory : relative;
  bucket.addMetadata(BUCKET_CONTENT_METADATA, { ...content, directory });
}

/** The rule a key is stored by, or undefined when the key is not part of the content. */
export function contentRuleFor(
  content: BucketContent,
  key: string,
): { prefix: string; cacheControl: string } | undefined {
  if (content.excludeSuffixes.some((suffix) => key.endsWith(suffix))) return undefined;
  return content.rules.find((rule) => key.startsWith(rule.prefix));
}
