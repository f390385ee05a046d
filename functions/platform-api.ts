/**
 * Lambda entry point for the API's own routes (`/health`, `/version`) and its `$default` route: any
 * path no other route claims answers 404 ENDPOINT_NOT_FOUND (405 for a wrong method) as JSON.
 */

import * as z from 'zod';
import { parseConfig } from '../shared/platform/config.ts';
import { createHttpHandler } from '../shared/platform/http/http-handler.ts';
import { platformOperations } from '../shared/platform/http/platform.routes.ts';

const config = parseConfig({ RUNWAY_VERSION: z.string().default('dev') });

export const handler = createHttpHandler({
  operations: platformOperations(config.RUNWAY_VERSION),
  access: 'public',
});
