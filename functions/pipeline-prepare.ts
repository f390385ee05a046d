/**
 * Training pipeline, first step: validates the execution input against the documented schema and
 * starts the execution's MLflow run. The state machine passes the input and `$$.Execution`.
 */
import type { ExecutionRef } from '../shared/pipelines/model.ts';
import { createPipelineService, pipelineConfig } from '../shared/pipelines/pipelines.module.ts';

const service = createPipelineService(pipelineConfig());

export const handler = async (event: { input: unknown; execution: ExecutionRef }) =>
  service.prepare(event.input, event.execution);
