import * as z from 'zod';
import { sfnClient } from '../../platform/aws/sfn.ts';
import { parseConfig } from '../../platform/config.ts';
import type { Operation } from '../../platform/http/operation.ts';
import { SfnPipelineExecutions } from '../adapters/executions.sfn.ts';
import { PipelineExecutionsService } from './executions.service.ts';
import { pipelineOperations } from './pipelines.routes.ts';

/** The pipelines API function's configuration, read once at cold start. */
export function pipelinesApiConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseConfig(
    {
      /** The training pipeline the API starts and reads (`runway-training`). */
      PIPELINE_STATE_MACHINE_ARN: z.string().startsWith('arn:'),
    },
    env,
  );
}

/** Composition root of the pipelines API. */
export function createPipelinesApi(config: ReturnType<typeof pipelinesApiConfig>): Operation[] {
  return pipelineOperations(
    new PipelineExecutionsService(new SfnPipelineExecutions(sfnClient(), config.PIPELINE_STATE_MACHINE_ARN)),
  );
}
