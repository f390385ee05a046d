import { envVar, parseConfig } from '../../platform/config.ts';
import type { Operation } from '../../platform/http/operation.ts';
import { DynamoExperimentRepository } from '../adapters/experiment.dynamodb-repository.ts';
import { S3ArtifactStore } from '../artifacts/adapters/artifact.s3-store.ts';
import { ExperimentService } from '../experiment.service.ts';
import { DynamoRunLookup } from './adapters/run-lookup.dynamodb.ts';
import { DynamoTraceRepository } from './adapters/trace.dynamodb-repository.ts';
import { otlpOperations } from './api/otlp.routes.ts';
import { traceOperations } from './api/traces.routes.ts';
import { AssessmentService } from './assessment.service.ts';
import { TraceService } from './trace.service.ts';

/** The traces function's configuration, read once at cold start. */
export function tracesConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseConfig(
    {
      TRACKING_TABLE_NAME: envVar.name(),
      ARTIFACT_BUCKET_NAME: envVar.name(),
      /** As the artifacts function's: spans are files of the same store. */
      ARTIFACT_KEY_PREFIX: envVar.name().optional(),
      /** Where the default experiment keeps artifacts, if a trace is the first thing to create it. */
      DEFAULT_ARTIFACT_ROOT: envVar.name().default('mlflow-artifacts:/'),
    },
    env,
  );
}

/**
 * Composition root of MLflow 3 tracing: trace infos in the tracking table, spans in the artifact
 * store, experiments and runs read through their own adapters; the trace, assessment and OTLP
 * operations.
 */
export function createTracesApi(config: ReturnType<typeof tracesConfig>): {
  operations: Operation[];
  traces: TraceService;
} {
  const repository = new DynamoTraceRepository(config.TRACKING_TABLE_NAME);
  const traces = new TraceService({
    traces: repository,
    spans: new S3ArtifactStore({
      bucket: config.ARTIFACT_BUCKET_NAME,
      keyPrefix: config.ARTIFACT_KEY_PREFIX ?? '',
    }),
    experiments: new ExperimentService({
      experiments: new DynamoExperimentRepository(config.TRACKING_TABLE_NAME),
      defaultArtifactRoot: config.DEFAULT_ARTIFACT_ROOT,
    }),
    runs: new DynamoRunLookup(config.TRACKING_TABLE_NAME),
  });
  const assessments = new AssessmentService(repository);
  return { operations: [...traceOperations(traces, assessments), ...otlpOperations(traces)], traces };
}
