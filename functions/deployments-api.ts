/**
 * Lambda entry point for the endpoints resource (`runway/endpoints...`: create, get, list, update,
 * delete, deployment history, manual deploy). Its own function, apart from the MLflow APIs, because
 * it owns the deployments table and starts the deploy state machine for manual deploys.
 */
import { createManualDeployStarter } from '../shared/deployments/deploy/deploy.module.ts';
import { createEndpointsApi, endpointsConfig } from '../shared/deployments/endpoints/endpoints.module.ts';
import { createHttpHandler } from '../shared/platform/http/http-handler.ts';

const { operations } = createEndpointsApi(endpointsConfig(), createManualDeployStarter());

export const handler = createHttpHandler({ operations });
