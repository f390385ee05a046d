import type { ArtifactEntry, UploadedPart } from './model.ts';

/**
 * Where artifacts live. Paths are artifact paths (`0/<run>/artifacts/model.pkl`, validated by the
 * service); the store alone decides how they map to its keys (bucket, prefix). Clients move large
 * files straight to the store through the presigned URLs it issues, never through the API.
 */
export interface ArtifactStore {
  /** Writes a whole file, replacing any file at `path`. */
  write(path: string, body: Uint8Array, contentType: string): Promise<void>;
  /**
   * Reads a whole file of at most `maxBytes`: `'too-large'` when it is bigger (nothing more is read),
   * `undefined` when there is no file at `path`.
   */
  read(path: string, maxBytes: number): Promise<Uint8Array | 'too-large' | undefined>;
  /** A URL that GETs the file directly, answering with the given headers, valid for `expiresInSeconds`. */
  downloadUrl(
    path: string,
    options: { expiresInSeconds: number; contentType: string; contentDisposition: string },
  ): Promise<string>;
  /**
   * One page of the entries directly inside `directory` (`''` is the root), in storage order, and
   * the token of the next page if there is one. Pages hold at most 1000 entries.
   */
  listPage(directory: string, pageToken: string | undefined): Promise<ArtifactListPage>;
  /** Deletes the file at `path` and every file below `path/`; missing files are not an error. */
  deleteTree(path: string): Promise<void>;
  /** Starts a multipart upload of a file and returns its upload id. */
  startMultipartUpload(path: string, contentType: string): Promise<string>;
  /** A URL the client PUTs one part's bytes to, valid for `expiresInSeconds`. */
  partUploadUrl(
    path: string,
    uploadId: string,
    partNumber: number,
    expiresInSeconds: number,
  ): Promise<string>;
  /**
   * Assembles the parts (ascending part numbers) into the file. Throws `ResourceDoesNotExistError`
   * for an unknown upload and `InvalidParameterError` for parts the store refuses (a missing part, a
   * wrong ETag, a part other than the last below the store's minimum size).
   */
  completeMultipartUpload(path: string, uploadId: string, parts: readonly UploadedPart[]): Promise<void>;
  /** Discards an upload and its parts; an unknown or finished upload is not an error. */
  abortMultipartUpload(path: string, uploadId: string): Promise<void>;
  /**
   * The artifact path a storage URI names when it lies in this store (`s3://<bucket>/<prefix>/<path>`
   * for S3), or `undefined` for a URI anywhere else: an experiment may keep its artifacts at any
   * location its creator chose, but the proxy reads only its own store.
   */
  pathOf(uri: string): string | undefined;
}

export interface ArtifactListPage {
  entries: ArtifactEntry[];
  nextPageToken?: string | undefined;
}

/** Finds where a run keeps its artifacts (the tracking store's runs own this). */
export interface RunArtifactLocator {
  /** The run's artifact URI (`mlflow-artifacts:/0/<run>/artifacts`), or `undefined` for an unknown run. */
  artifactUri(runId: string): Promise<string | undefined>;
}

/** Finds where an MLflow 3 logged model keeps its artifacts (the logged-models slice owns this). */
export interface LoggedModelArtifactLocator {
  /**
   * The model's artifact location (`mlflow-artifacts:/0/models/<model_id>/artifacts`), or `undefined`
   * for an unknown or deleted model (MLflow's `get_logged_model` answers 404 for both).
   */
  artifactLocation(modelId: string): Promise<string | undefined>;
}
