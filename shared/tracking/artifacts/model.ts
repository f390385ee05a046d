/**
 * The artifact proxy's domain types and limits. Artifact paths are relative to the artifact root
 * (`<experiment id>/<run id>/artifacts/<file>`, as MLflow's `mlflow-artifacts:` URIs name them); how
 * they map to storage keys is the store's business (see `ports.ts`).
 */

/** One entry of a directory listing, named relative to the listed directory. */
export interface ArtifactEntry {
  name: string;
  isDir: boolean;
  /** Bytes; files only. */
  size?: number;
}

/** A presigned URL the client PUTs one part to, with the headers it must send (MLflow's shape). */
export interface PartUploadCredential {
  partNumber: number;
  url: string;
  headers: Record<string, string>;
}

/** A part the client uploaded, with the ETag storage answered. */
export interface UploadedPart {
  partNumber: number;
  etag: string;
}

/** What a download answers: the bytes themselves when small, otherwise where to fetch them. */
export type Download =
  | { kind: 'inline'; body: Uint8Array; contentType: string; contentDisposition: string }
  | { kind: 'redirect'; url: string };

/**
 * Lambda's synchronous invocation payload limit, for the request event and for the response alike.
 * It is the real ceiling of anything that passes through the API (API Gateway itself allows 10 MB).
 */
export const LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024;

/**
 * The largest file that fits in a Lambda payload once base64-encoded (4/3 larger), leaving 64 KiB for
 * headers and the rest of the event: about 4.45 MiB. Inline limits are configurable up to this.
 */
export const MAX_INLINE_BYTES = Math.floor(((LAMBDA_PAYLOAD_BYTES - 64 * 1024) * 3) / 4);

/**
 * S3's largest single PUT (5 GiB): the ceiling of one artifact uploaded as MLflow's client does by
 * default, one `PUT` of the whole file, which the edge path streams straight into the bucket.
 */
export const MAX_SINGLE_PUT_BYTES = 5 * 1024 * 1024 * 1024;

/** S3's multipart limits, which MLflow's `num_parts` and part numbers follow. */
export const MAX_PARTS = 10_000;

/** S3's key limit (UTF-8 bytes); a longer artifact path can never be stored. */
export const MAX_PATH_BYTES = 1024;

/**
 * JSON responses stay below this (Lambda's payload limit with room for the response envelope), so a
 * listing or a multipart upload's credentials never fail as an oversized Lambda response.
 */
export const MAX_JSON_RESPONSE_BYTES = 5 * 1024 * 1024;

/** Tunables of the artifact service; the composition root reads them from the environment. */
export interface ArtifactLimits {
  /** Larger PUT bodies are refused with 413: they must go by multipart upload. */
  maxInlineUploadBytes: number;
  /** Larger files are downloaded by a redirect to a presigned GET instead of through Lambda. */
  maxInlineDownloadBytes: number;
  /** Lifetime of a presigned download URL: the client follows the redirect at once. */
  downloadUrlTtlSeconds: number;
  /** Lifetime of presigned part-upload URLs: a large upload takes a while to reach its last part. */
  uploadUrlTtlSeconds: number;
}

export const DEFAULT_LIMITS: ArtifactLimits = {
  maxInlineUploadBytes: 4 * 1024 * 1024,
  maxInlineDownloadBytes: 4 * 1024 * 1024,
  downloadUrlTtlSeconds: 300,
  uploadUrlTtlSeconds: 3600,
};
