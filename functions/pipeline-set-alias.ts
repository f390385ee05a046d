/** Training pipeline step: points the input's alias at the version just registered (continuous deployment follows aliases). */
import type { PipelineState } from '../shared/pipelines/model.ts';
import { createPipelineService, pipelineConfig } from '../shared/pipelines/pipelines.module.ts';

const service = createPipelineService(pipelineConfig());

export const handler = async (state: PipelineState) => service.setAlias(state);
