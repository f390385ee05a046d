import * as z from 'zod';
import { defineOperation, HttpResponse, type Operation } from './operation.ts';

/**
 * Routes every deployment answers outside the MLflow API: the health check MLflow's server offers
 * (`GET /health` -> `OK`) and the running version.
 */
export function platformOperations(version: string): Operation[] {
  return [
    defineOperation({
      method: 'GET',
      path: '/health',
      input: z.object({}),
      handle: () => new HttpResponse(200, { status: 'OK' }),
    }),
    defineOperation({
      method: 'GET',
      path: '/version',
      input: z.object({}),
      handle: () => new HttpResponse(200, { version, product: 'runway' }),
    }),
  ];
}
