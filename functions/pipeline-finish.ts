/** Training pipeline step: Ends the run as FINISHED and summarises the execution. */
import type { PipelineState } from '../shared/pipelines/model.ts';
import { createPipelineService, pipelineConfig } from '../shared/pipelines/pipelines.module.ts';

const service = createPipelineService(pipelineConfig());

export const handler = async (state: PipelineState) => service.finish(state);
