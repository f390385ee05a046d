/**
 * Lambda entry point for the deploy state machine's model checks, CheckModel and SmokeTest: the only
 * steps that load a model (with ONNX Runtime, as the model server does), so the only ones that get a
 * function sized for it. `{ step, deploy }` in, `{}` out, or `ModelInvalidError` /
 * `SmokeTestFailedError` naming what is wrong.
 */

import { createModelVerifier } from '../shared/deployments/deploy/adapters/serving-checks.ts';
import { createModelCheckSteps } from '../shared/deployments/deploy/deploy.module.ts';
import { modelCheckPayload } from '../shared/deployments/deploy/model.ts';
import { logger } from '../shared/platform/logger.ts';

const steps = createModelCheckSteps(createModelVerifier());

export const handler = async (event: unknown) => {
  const payload = modelCheckPayload.parse(event);
  logger.setContext({ step: payload.step });
  const result = await steps.run(payload);
  return result;
};
