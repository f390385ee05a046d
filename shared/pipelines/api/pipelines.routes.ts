import * as z from 'zod';
import { defineOperation, HttpResponse, type Operation } from '../../platform/http/operation.ts';
import { int64 } from '../../platform/http/wire.ts';
import type { PipelineExecutionsService } from './executions.service.ts';

/** Step Functions' execution names: 1 to 80 letters, digits, `-` and `_`. */
const executionName = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'must be 1 to 80 letters, digits, - or _');

export const PIPELINE_PAGE_LIMITS = { default: 20, max: 100 } as const;

/**
 * Runway's training pipeline over HTTP (`runway/pipelines/...`, docs/pipelines.md), for callers that
 * hold a token but no AWS credentials (the console):
 * - `POST runway/pipelines/executions`: start one (`input`: the pipeline's input; `name` optional);
 * - `GET runway/pipelines/executions`: list them, newest first (`max_results`, `page_token`);
 * - `GET runway/pipelines/executions/{name}`: one, with its steps, run, failure and output.
 */
export function pipelineOperations(service: PipelineExecutionsService): Operation[] {
  return [
    defineOperation({
      method: 'POST',
      path: 'runway/pipelines/executions',
      input: z.object({ input: z.record(z.string(), z.unknown()), name: executionName.optional() }).strict(),
      handle: async ({ input, name }) =>
        new HttpResponse(200, { execution: await service.start(input, name) }),
    }),
    defineOperation({
      method: 'GET',
      path: 'runway/pipelines/executions',
      input: z
        .object({
          max_results: int64().pipe(z.number().int().min(1).max(PIPELINE_PAGE_LIMITS.max)).optional(),
          page_token: z.string().max(4096).optional(),
        })
        .strict(),
      handle: async ({ max_results, page_token }) => {
        const page = await service.list(max_results ?? PIPELINE_PAGE_LIMITS.default, page_token || undefined);
        return {
          ...(page.executions.length > 0 ? { executions: page.executions } : {}),
          ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
        };
      },
    }),
    defineOperation({
      method: 'GET',
      path: 'runway/pipelines/executions/{name}',
      input: z.object({ name: executionName }).strict(),
      handle: async ({ name }) => ({ execution: await service.describe(name) }),
    }),
  ];
}
