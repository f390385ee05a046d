import * as z from 'zod';
import { envVar, parseConfig } from '../../platform/config.ts';
import type { Operation } from '../../platform/http/operation.ts';
import { S3ArtifactStore } from './adapters/artifact.s3-store.ts';
import { DynamoArtifactRootLocator } from './adapters/artifact-roots.dynamodb-locator.ts';
import { artifactOperations } from './api/artifacts.routes.ts';
import { ArtifactService } from './artifact.service.ts';
import { validateDirectoryPath } from './artifact-path.ts';
import { DEFAULT_LIMITS, MAX_INLINE_BYTES } from './model.ts';

/** A byte count from the environment, at most what a Lambda payload can carry base64-encoded. */
const inlineBytes = (fallback: number) =>
  z.coerce.number().int().min(0).max(MAX_INLINE_BYTES).default(fallback);
/** SigV4 presigned URLs live at most 7 days. */
const urlSeconds = (fallback: number) => z.coerce.number().int().min(1).max(604_800).default(fallback);

const keyPrefix = () =>
  z
    .string()
    .trim()
    .transform((value) => value.replace(/^\/+|\/+$/g, ''))
    .refine((value) => isValidPrefix(value), 'must be a relative key prefix such as "artifacts"')
    .default('');

/** The artifacts function's configuration, read once at cold start. */
export function artifactsConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseConfig(
    {
      ARTIFACT_BUCKET_NAME: envVar.name(),
      /** Keys are `<prefix>/<artifact path>`; empty puts artifacts at the bucket's root. */
      ARTIFACT_KEY_PREFIX: keyPrefix(),
      /**
       * Where runs and logged models live, for `mlflow/artifacts/list` and the logged-model artifact
       * endpoints (which read an artifact root from one item).
       */
      TRACKING_TABLE_NAME: envVar.name(),
      ARTIFACT_MAX_INLINE_UPLOAD_BYTES: inlineBytes(DEFAULT_LIMITS.maxInlineUploadBytes),
      ARTIFACT_MAX_INLINE_DOWNLOAD_BYTES: inlineBytes(DEFAULT_LIMITS.maxInlineDownloadBytes),
      ARTIFACT_DOWNLOAD_URL_TTL_SECONDS: urlSeconds(DEFAULT_LIMITS.downloadUrlTtlSeconds),
      ARTIFACT_UPLOAD_URL_TTL_SECONDS: urlSeconds(DEFAULT_LIMITS.uploadUrlTtlSeconds),
    },
    env,
  );
}

/** Composition root of the artifact proxy: S3 and DynamoDB adapters into the service, into operations. */
export function createArtifactsApi(config: ReturnType<typeof artifactsConfig>): { operations: Operation[] } {
  const roots = new DynamoArtifactRootLocator(config.TRACKING_TABLE_NAME);
  const service = new ArtifactService({
    store: new S3ArtifactStore({
      bucket: config.ARTIFACT_BUCKET_NAME,
      keyPrefix: config.ARTIFACT_KEY_PREFIX,
    }),
    runs: roots,
    loggedModels: roots,
    limits: {
      maxInlineUploadBytes: config.ARTIFACT_MAX_INLINE_UPLOAD_BYTES,
      maxInlineDownloadBytes: config.ARTIFACT_MAX_INLINE_DOWNLOAD_BYTES,
      downloadUrlTtlSeconds: config.ARTIFACT_DOWNLOAD_URL_TTL_SECONDS,
      uploadUrlTtlSeconds: config.ARTIFACT_UPLOAD_URL_TTL_SECONDS,
    },
  });
  return { operations: artifactOperations(service) };
}

function isValidPrefix(prefix: string): boolean {
  try {
    return validateDirectoryPath(prefix) === prefix;
  } catch {
    return false;
  }
}
