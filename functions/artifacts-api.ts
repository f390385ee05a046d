/**
 * Lambda entry point for MLflow's artifact proxy (`/mlflow-artifacts/...`: upload, download, list,
 * delete, multipart uploads), service.proto's `mlflow/artifacts/list` and MLflow 3's logged-model
 * artifacts (`logged-models/{model_id}/artifacts/directories` and `/files`). Files of a few MB pass
 * through; larger ones travel between the client and S3 by presigned URLs, never through Lambda.
 */
import { createHttpHandler } from '../shared/platform/http/http-handler.ts';
import { artifactsConfig, createArtifactsApi } from '../shared/tracking/artifacts/artifacts.module.ts';

const { operations } = createArtifactsApi(artifactsConfig());

export const handler = createHttpHandler({ operations });
