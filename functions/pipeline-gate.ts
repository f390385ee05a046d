/** Training pipeline step: Decides whether the model clears the threshold and beats the model under the alias. */
import type { PipelineState } from '../shared/pipelines/model.ts';
import { createPipelineService, pipelineConfig } from '../shared/pipelines/pipelines.module.ts';

const service = createPipelineService(pipelineConfig());

export const handler = async (state: PipelineState) => service.gate(state);
