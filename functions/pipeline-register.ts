/** Training pipeline step: Registers the model version (linked to its run and dataset) and sets the alias. */
import type { PipelineState } from '../shared/pipelines/model.ts';
import { createPipelineService, pipelineConfig } from '../shared/pipelines/pipelines.module.ts';

const service = createPipelineService(pipelineConfig());

export const handler = async (state: PipelineState) => service.register(state);
