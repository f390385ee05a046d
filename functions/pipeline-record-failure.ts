/**
 * Training pipeline, failure path: every step's Catch leads here with the step's name, error and
 * cause. It marks the run FAILED and returns the error and cause the execution fails with.
 */
import type { StepFailure } from '../shared/pipelines/pipeline.service.ts';
import { createPipelineService, pipelineConfig } from '../shared/pipelines/pipelines.module.ts';

const service = createPipelineService(pipelineConfig());

export const handler = async (failure: StepFailure) => service.recordFailure(failure);
