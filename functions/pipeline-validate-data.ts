/** Training pipeline step: Validates the dataset against the last accepted schema and statistics; fails with the anomaly report. */
import type { PipelineState } from '../shared/pipelines/model.ts';
import { createPipelineService, pipelineConfig } from '../shared/pipelines/pipelines.module.ts';

const service = createPipelineService(pipelineConfig());

export const handler = async (state: PipelineState) => service.validateData(state);
