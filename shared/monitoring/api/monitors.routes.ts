import * as z from 'zod';
import { endpointName } from '../../deployments/model.ts';
import { defineOperation, HttpResponse, type Operation } from '../../platform/http/operation.ts';
import { int64 } from '../../platform/http/wire.ts';
import type { FeedbackService } from '../feedback.service.ts';
import {
  createMonitorRequest,
  FEEDBACK_LIMITS,
  feedbackRequestWire,
  MONITORING_PAGE_LIMITS,
  monitorName,
  updateMonitorRequest,
} from '../model.ts';
import type { MonitorService } from '../monitor.service.ts';
import { monitorToWire, runToWire } from '../monitor.wire.ts';
import type { Page } from '../ports.ts';

/** A page as MLflow answers one: an empty list and the last page's token are left out. */
function pageToWire<T, W>(key: string, page: Page<T>, toWire: (item: T) => W) {
  return {
    ...(page.items.length > 0 ? { [key]: page.items.map(toWire) } : {}),
    ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
  };
}

const maxResults = int64().pipe(z.number().int().min(1).max(MONITORING_PAGE_LIMITS.max));
const page = { max_results: maxResults.optional(), page_token: z.string().max(1000).optional() };
const epochMs = int64().pipe(z.number().int().min(0).max(8_640_000_000_000_000));

/**
 * The monitors resource, REST-style under `/api/2.0/` and `/ajax-api/2.0/` (docs/monitoring.md), and
 * ground-truth feedback beside the invocations route:
 * - `runway/monitors`: POST creates, GET lists (`max_results`, `page_token`, `endpoint_name`);
 * - `runway/monitors/{name}`: GET, PATCH (any settings), DELETE;
 * - `runway/monitors/{name}/run`: POST, a run now (202; `window_start`, `window_end` in epoch ms);
 * - `runway/monitors/{name}/reports`: GET, its runs newest first; `.../reports/{run_id}`: one with its report;
 * - `POST /endpoints/{name}/feedback`: true labels or values by inference id, in batches.
 */
export function monitorOperations(monitors: MonitorService, feedback: FeedbackService): Operation[] {
  return [
    defineOperation({
      method: 'POST',
      path: 'runway/monitors',
      input: createMonitorRequest,
      handle: async ({ name, endpoint_name, ...settings }) => ({
        monitor: monitorToWire(await monitors.create(name, endpoint_name, settings)),
      }),
    }),
    defineOperation({
      method: 'GET',
      path: 'runway/monitors',
      input: z.object({ ...page, endpoint_name: endpointName.optional() }).strict(),
      handle: async ({ max_results, page_token, endpoint_name }) =>
        pageToWire(
          'monitors',
          await monitors.list({
            maxResults: max_results,
            pageToken: page_token,
            endpointName: endpoint_name,
          }),
          monitorToWire,
        ),
    }),
    defineOperation({
      method: 'GET',
      path: 'runway/monitors/{name}',
      input: z.object({ name: monitorName }).strict(),
      handle: async ({ name }) => ({ monitor: monitorToWire(await monitors.get(name)) }),
    }),
    defineOperation({
      method: 'PATCH',
      path: 'runway/monitors/{name}',
      input: updateMonitorRequest,
      handle: async ({ name, ...settings }) => ({
        monitor: monitorToWire(await monitors.update(name, settings)),
      }),
    }),
    defineOperation({
      method: 'DELETE',
      path: 'runway/monitors/{name}',
      input: z.object({ name: monitorName }).strict(),
      handle: async ({ name }) => {
        await monitors.delete(name);
        return {};
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'runway/monitors/{name}/run',
      input: z
        .object({ name: monitorName, window_start: epochMs.optional(), window_end: epochMs.optional() })
        .strict(),
      handle: async ({ name, window_start, window_end }) => {
        const started = await monitors.run(name, { windowStart: window_start, windowEnd: window_end });
        return new HttpResponse(202, {
          run_id: started.runId,
          execution_arn: started.executionArn,
          window_start: started.windowStart,
          window_end: started.windowEnd,
        });
      },
    }),
    defineOperation({
      method: 'GET',
      path: 'runway/monitors/{name}/reports',
      input: z.object({ name: monitorName, ...page }).strict(),
      handle: async ({ name, max_results, page_token }) =>
        pageToWire(
          'runs',
          await monitors.listRuns(name, { maxResults: max_results, pageToken: page_token }),
          runToWire,
        ),
    }),
    defineOperation({
      method: 'GET',
      path: 'runway/monitors/{name}/reports/{run_id}',
      input: z.object({ name: monitorName, run_id: z.string().max(100) }).strict(),
      handle: async ({ name, run_id }) => {
        const { run, report } = await monitors.report(name, run_id);
        return { run: runToWire(run), ...(report === null ? {} : { report }) };
      },
    }),
    defineOperation({
      method: 'POST',
      path: '/endpoints/{name}/feedback',
      input: feedbackRequestWire.extend({ name: endpointName }).strict(),
      maxBodyBytes: FEEDBACK_LIMITS.bodyBytes,
      bodyTooLargeHint: `Send at most ${FEEDBACK_LIMITS.items} items per request.`,
      handle: async ({ name, feedback: items }) => feedback.submit(name, { feedback: items }),
    }),
  ];
}
