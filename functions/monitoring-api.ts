/**
 * Lambda entry point for the monitors resource (`runway/monitors...`: create, get, list, update,
 * delete, run, reports) and ground-truth feedback (`POST /endpoints/{name}/feedback`). Its own
 * function: it owns the monitoring table, the monitors' schedules and the feedback objects.
 */
import { createMonitoringApi, monitoringApiConfig } from '../shared/monitoring/monitoring.module.ts';
import { createHttpHandler } from '../shared/platform/http/http-handler.ts';

const { operations } = createMonitoringApi(monitoringApiConfig());

export const handler = createHttpHandler({ operations });
