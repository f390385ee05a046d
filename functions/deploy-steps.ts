/**
 * Lambda entry point for the deploy state machine's light steps (`infra/constructs/deploy-state-machine.ts`):
 * Resolve, the traffic steps, the canary checks, pruning SageMaker, and the outcomes. Each Task state
 * invokes it with `{ step, ... }` and gets the step's result. Errors are thrown as the named deploy
 * errors the definition's Retry and Catch rules match on. The model checks run in their own, larger
 * function (`deploy-model-checks.ts`).
 */

import { createCanaryStats } from '../shared/deployments/deploy/adapters/canary-stats.ts';
import { createDeployService, deployStepsConfig } from '../shared/deployments/deploy/deploy.module.ts';
import { stepPayload } from '../shared/deployments/deploy/model.ts';
import { logger } from '../shared/platform/logger.ts';

const config = deployStepsConfig();
const service = createDeployService(config, createCanaryStats(config.DEPLOYMENTS_TABLE_NAME));

export const handler = async (event: unknown) => {
  const payload = stepPayload.parse(event);
  logger.setContext({ step: payload.step });
  const result = await service.run(payload);
  return result;
};
