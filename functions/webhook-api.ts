/**
 * Lambda entry point for MLflow's webhooks API (`mlflow/webhooks...`: create, list, get, update,
 * delete, test). A function of its own, apart from the registry API, because `test` sends requests to
 * user-given URLs: only this function and the delivery function make outbound calls.
 */
import { createHttpHandler } from '../shared/platform/http/http-handler.ts';
import { createWebhooksApi, webhooksConfig } from '../shared/registry/webhooks/webhooks.module.ts';

const { operations } = createWebhooksApi(webhooksConfig());

export const handler = createHttpHandler({ operations });
