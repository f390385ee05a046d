import * as z from 'zod';
import { MAX_JSON_BODY_BYTES } from '../../../platform/http/body-limit.ts';
import { defineOperation, HttpResponse, type Operation } from '../../../platform/http/operation.ts';
import { int64 } from '../../../platform/http/wire.ts';
import { type ArtifactService, multipartUploadHint, type RootArtifactListing } from '../artifact.service.ts';
import { type ArtifactPathKind, artifactPathProblem } from '../artifact-path.ts';
import type { ArtifactEntry, Download } from '../model.ts';

/** MLflow's `FileInfo` in protobuf JSON: `file_size` (an int64 MLflow sends as a number) only for files. */
export interface FileInfoWire {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

const fileInfo = (path: string, entry: Pick<ArtifactEntry, 'isDir' | 'size'>): FileInfoWire => ({
  path,
  is_dir: entry.isDir,
  ...(entry.isDir || entry.size === undefined ? {} : { file_size: entry.size }),
});

/**
 * An artifact path parameter, refused at the edge (400, before the access check, any read or any
 * write) when {@link artifactPathProblem} finds it unsafe; the service checks it again.
 */
const artifactPathOf = (kind: ArtifactPathKind) =>
  z.string().superRefine((path, context) => {
    const problem = artifactPathProblem(path, kind);
    if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
  });

/**
 * MLflow's artifact proxy (mlflow_artifacts.proto: `/mlflow-artifacts/...`), service.proto's
 * `GET mlflow/artifacts/list` and MLflow 3's logged-model artifact listing and download, under
 * `/api/2.0/` and `/ajax-api/2.0/`. The route parameter is named
 * `artifact_path` as in MLflow, so it never collides with the `path` field of the multipart bodies.
 */
export function artifactOperations(service: ArtifactService): Operation[] {
  const file = z.object({ artifact_path: artifactPathOf('file') });
  const directory = z.object({ artifact_path: artifactPathOf('directory') });
  // `artifact_path` names the directory; `path` is the client's local file, whose name is taken.
  const multipart = { artifact_path: artifactPathOf('directory'), path: z.string() };

  return [
    defineOperation({
      method: 'GET',
      path: 'mlflow-artifacts/artifacts/{artifact_path+}',
      input: file,
      handle: async ({ artifact_path }) => downloadResponse(await service.download(artifact_path)),
    }),
    defineOperation({
      method: 'PUT',
      path: 'mlflow-artifacts/artifacts/{artifact_path+}',
      // The body is the file itself, not JSON parameters.
      source: 'query',
      maxBodyBytes: service.maxUploadBytes,
      bodyTooLargeHint: multipartUploadHint(service.maxUploadBytes),
      input: file,
      handle: async ({ artifact_path }, request) => {
        await service.upload(artifact_path, request.rawBody);
        return {};
      },
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow-artifacts/artifacts',
      input: z.object({ path: artifactPathOf('directory').optional() }),
      handle: async ({ path }) => {
        const files = (await service.list(path)).map((entry) => fileInfo(entry.name, entry));
        return files.length > 0 ? { files } : {};
      },
    }),
    defineOperation({
      method: 'DELETE',
      path: 'mlflow-artifacts/artifacts/{artifact_path+}',
      source: 'query',
      input: directory,
      handle: async ({ artifact_path }) => {
        await service.delete(artifact_path);
        return {};
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow-artifacts/mpu/create/{artifact_path+}',
      input: z.object({ ...multipart, num_parts: int64() }),
      handle: async ({ artifact_path, path, num_parts }) => {
        const upload = await service.createMultipartUpload(artifact_path, path, num_parts);
        return {
          upload_id: upload.uploadId,
          credentials: upload.credentials.map((credential) => ({
            url: credential.url,
            part_number: credential.partNumber,
            headers: credential.headers,
          })),
        };
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow-artifacts/mpu/complete/{artifact_path+}',
      // MLflow's client sends every part with its presigned URL (~1.5 KB each): 1 MiB is ~600 parts.
      maxBodyBytes: MAX_JSON_BODY_BYTES,
      input: z.object({
        ...multipart,
        upload_id: z.string(),
        // MLflow's client also sends each part's `url`; it is not needed to complete.
        parts: z.array(z.object({ part_number: int64(), etag: z.string() })),
      }),
      handle: async ({ artifact_path, path, upload_id, parts }) => {
        await service.completeMultipartUpload(
          artifact_path,
          path,
          upload_id,
          parts.map((part) => ({ partNumber: part.part_number, etag: part.etag })),
        );
        return {};
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow-artifacts/mpu/abort/{artifact_path+}',
      input: z.object({ ...multipart, upload_id: z.string() }),
      handle: async ({ artifact_path, path, upload_id }) => {
        await service.abortMultipartUpload(artifact_path, path, upload_id);
        return {};
      },
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/artifacts/list',
      input: z
        .object({
          run_id: z.string().optional(),
          // MLflow's older name for run_id, still accepted by its server.
          run_uuid: z.string().optional(),
          path: artifactPathOf('directory').optional(),
          page_token: z.string().optional(),
        })
        .transform(({ run_id, run_uuid, ...rest }) => ({ runId: run_id || run_uuid, ...rest }))
        .refine((input) => input.runId !== undefined && input.runId !== '', {
          path: ['run_id'],
          message: 'required',
        }),
      handle: async ({ runId, path, page_token }) =>
        rootListing(await service.listRun(runId ?? '', path, page_token)),
    }),
    // MLflow 3's logged-model artifacts (the UI lists and opens them; its client uploads and downloads
    // through the proxy paths above, under the model's `mlflow-artifacts:/` location).
    defineOperation({
      method: 'GET',
      path: 'mlflow/logged-models/{model_id}/artifacts/directories',
      input: z.object({
        model_id: z.string(),
        artifact_directory_path: artifactPathOf('directory').optional(),
        page_token: z.string().optional(),
      }),
      handle: async ({ model_id, artifact_directory_path, page_token }) =>
        rootListing(await service.listLoggedModel(model_id, artifact_directory_path, page_token)),
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/logged-models/{model_id}/artifacts/files',
      input: z.object({ model_id: z.string(), artifact_file_path: artifactPathOf('file') }),
      handle: async ({ model_id, artifact_file_path }) =>
        downloadResponse(await service.downloadLoggedModelFile(model_id, artifact_file_path)),
    }),
  ];
}

/** `ListArtifacts.Response` and `ListLoggedModelArtifacts.Response`: empty lists are left out. */
function rootListing(listing: RootArtifactListing) {
  return {
    root_uri: listing.rootUri,
    ...(listing.files.length > 0 ? { files: listing.files.map((file) => fileInfo(file.path, file)) } : {}),
    ...(listing.nextPageToken ? { next_page_token: listing.nextPageToken } : {}),
  };
}

/**
 * MLflow's download answer (bytes, its content type, always an attachment, `nosniff`), or a redirect
 * to storage for a file too large to pass through Lambda; `no-store` because the URL soon expires.
 */
function downloadResponse(download: Download): HttpResponse {
  if (download.kind === 'redirect') {
    return new HttpResponse(302, new Uint8Array(0), { location: download.url, 'cache-control': 'no-store' });
  }
  return new HttpResponse(200, download.body, {
    'content-type': download.contentType,
    'content-disposition': download.contentDisposition,
    'x-content-type-options': 'nosniff',
  });
}
