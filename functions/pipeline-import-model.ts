/** Training pipeline step (SageMaker trainer): unpacks the training job's model.tar.gz into the run's MLflow model. */
import type { PipelineState } from '../shared/pipelines/model.ts';
import { createPipelineService, pipelineConfig } from '../shared/pipelines/pipelines.module.ts';

const service = createPipelineService(pipelineConfig());

export const handler = async (state: PipelineState) => service.importSageMakerModel(state);
