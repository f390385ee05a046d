import * as z from 'zod';
import { defineOperation, HttpResponse, type Operation } from './operation.ts';

/**
 * The MLflow release whose REST API Runway serves. MLflow's clients read it from `GET /version` to
 * decide which endpoints a server has (the 3.x client sends spans over OTLP only to servers at 3.4
 * or later), so it is what `/version` answers by default, as text, as MLflow's server does.
 */
export const MLFLOW_API_VERSION = '3.11.1';

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
      // MLflow's answer (the version as plain text) for clients, Runway's own in a header; a caller
      // that asks for JSON gets both in a body.
      handle: (_input, request) =>
        /\bapplication\/json\b/i.test(request.headers.accept ?? '')
          ? new HttpResponse(200, { version, product: 'runway', mlflow_version: MLFLOW_API_VERSION })
          : new HttpResponse(200, Buffer.from(MLFLOW_API_VERSION, 'utf8'), {
              'content-type': 'text/plain; charset=utf-8',
              'x-runway-version': version,
            }),
    }),
  ];
}
