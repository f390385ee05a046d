import type { Operation } from '../../shared/platform/http/operation.ts';

/** What the monitoring API needs besides tables, for tests that only enumerate or refuse its routes. */
export const MONITORING_DEFAULTS = {
  MONITORING_TABLE_NAME: 'never-read',
  MONITOR_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:monitor-run',
  SCHEDULE_GROUP_NAME: 'Runway-Monitoring',
  SCHEDULER_ROLE_ARN: 'arn:aws:iam::000000000000:role/scheduler',
  ARTIFACT_BUCKET_NAME: 'never-read',
};

/**
 * Every operation of every API function, by function, built by the functions' own composition roots
 * from the environment (so tests enumerate routes from the routers, never by hand). Call it after
 * `useEmulators` has set the variables the modules read.
 */
export async function apiOperations(
  env: NodeJS.ProcessEnv = process.env,
): Promise<Record<string, Operation[]>> {
  const { createTrackingApi, trackingConfig } = await import('../../shared/tracking/tracking.module.ts');
  const { createRegistryApi, registryConfig } = await import('../../shared/registry/registry.module.ts');
  const { createArtifactsApi, artifactsConfig } = await import(
    '../../shared/tracking/artifacts/artifacts.module.ts'
  );
  const { createWebhooksApi, webhooksConfig } = await import(
    '../../shared/registry/webhooks/webhooks.module.ts'
  );
  const { createAccessApi } = await import('../../shared/access/access.module.ts');
  const { createEndpointsApi, endpointsConfig } = await import(
    '../../shared/deployments/endpoints/endpoints.module.ts'
  );
  const { createTracesApi, tracesConfig } = await import('../../shared/tracking/traces/traces.module.ts');
  const { createMonitoringApi, monitoringApiConfig } = await import(
    '../../shared/monitoring/monitoring.module.ts'
  );
  const { createPipelinesApi, pipelinesApiConfig } = await import(
    '../../shared/pipelines/api/pipelines-api.module.ts'
  );
  const { platformOperations } = await import('../../shared/platform/http/platform.routes.ts');
  return {
    tracking: createTrackingApi(trackingConfig(env)).operations,
    registry: createRegistryApi(registryConfig(env)).operations,
    artifacts: createArtifactsApi(artifactsConfig(env)).operations,
    traces: createTracesApi(tracesConfig(env)).operations,
    webhooks: createWebhooksApi(webhooksConfig(env)).operations,
    access: createAccessApi(env).operations,
    deployments: createEndpointsApi(endpointsConfig(env)).operations,
    monitoring: createMonitoringApi(monitoringApiConfig({ ...MONITORING_DEFAULTS, ...env })).operations,
    // The pipelines API needs its state machine's ARN only to call it; listing routes calls nothing.
    pipelines: createPipelinesApi(
      pipelinesApiConfig({
        PIPELINE_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:runway-training',
        ...env,
      }),
    ),
    platform: platformOperations('test'),
  };
}
