/**
 * Lambda entry point for the pipelines API (`runway/pipelines/executions...`): start, list and
 * describe executions of Runway's training pipeline for token holders (the console), who have no
 * AWS credentials to call Step Functions with.
 */
import { createPipelinesApi, pipelinesApiConfig } from '../shared/pipelines/api/pipelines-api.module.ts';
import { createHttpHandler } from '../shared/platform/http/http-handler.ts';

export const handler = createHttpHandler({ operations: createPipelinesApi(pipelinesApiConfig()) });
