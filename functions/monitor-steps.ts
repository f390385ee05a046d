/**
 * Lambda entry point for the monitor state machine's steps (`infra/constructs/monitor-state-machine.ts`):
 * each Task state invokes it with `{ step, ... }` (prepare, analyze, publish, fail) and gets the step's
 * result. Errors are thrown as they are; the definition's Retry and Catch rules match on their names.
 */
import { createMonitorRunService, monitorStepsConfig } from '../shared/monitoring/monitoring.module.ts';
import { monitorStepPayload, runMonitorStep } from '../shared/monitoring/run/monitor-run.service.ts';
import { logger } from '../shared/platform/logger.ts';

const { service } = createMonitorRunService(monitorStepsConfig());

export const handler = async (event: unknown) => {
  const payload = monitorStepPayload.parse(event);
  logger.setContext({ step: payload.step });
  return runMonitorStep(service, payload);
};
