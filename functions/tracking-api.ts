/**
 * Lambda entry point for MLflow's tracking API (experiments; runs, metrics and artifacts follow).
 * Built once per container; each request goes through the shared middy chain to one operation.
 */
import { createHttpHandler } from '../shared/platform/http/http-handler.ts';
import { createTrackingApi, trackingConfig } from '../shared/tracking/tracking.module.ts';

const { operations } = createTrackingApi(trackingConfig());

export const handler = createHttpHandler({ operations });
