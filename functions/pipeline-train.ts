/** Training pipeline step: Trains the built-in linear or logistic model and writes it as an MLflow ONNX model. */
import type { PipelineState } from '../shared/pipelines/model.ts';
import { createPipelineService, pipelineConfig } from '../shared/pipelines/pipelines.module.ts';

const service = createPipelineService(pipelineConfig());

export const handler = async (state: PipelineState) => service.train(state);
