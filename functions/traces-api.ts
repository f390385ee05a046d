/**
 * Lambda entry point for MLflow 3 tracing: the trace API (`/api/3.0/mlflow/traces...` and the 2.x
 * trace endpoints under `/api/2.0/mlflow/traces...`), assessments, and OTLP span ingestion at
 * `/v1/traces`. It holds trace items of the tracking table and the spans' files in the artifact
 * bucket, nothing else.
 */
import { createHttpHandler } from '../shared/platform/http/http-handler.ts';
import { createTracesApi, tracesConfig } from '../shared/tracking/traces/traces.module.ts';

const { operations } = createTracesApi(tracesConfig());

export const handler = createHttpHandler({ operations });
