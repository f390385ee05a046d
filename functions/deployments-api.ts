/**
 * Lambda entry point for the endpoints resource (`runway/endpoints...`: create, get, list, update,
 * delete, deployment history, manual deploy). Its own function, apart from the MLflow APIs, because
 * it owns the deployments table and will start the deploy state machine.
 */
import { createEndpointsApi, endpointsConfig } from '../shared/deployments/endpoints/endpoints.module.ts';
import { createHttpHandler } from '../shared/platform/http/http-handler.ts';

const { operations } = createEndpointsApi(endpointsConfig());

export const handler = createHttpHandler({ operations });
