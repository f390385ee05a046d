/**
 * Lambda entry point for MLflow's model registry API (registered models, versions, stages, aliases,
 * tags). Built once per container; each request goes through the shared middy chain to one operation,
 * and every change is announced on the Runway event bus.
 */
import { createHttpHandler } from '../shared/platform/http/http-handler.ts';
import { createRegistryApi, registryConfig } from '../shared/registry/registry.module.ts';

const { operations } = createRegistryApi(registryConfig());

export const handler = createHttpHandler({ operations });
