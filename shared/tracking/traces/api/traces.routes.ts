import * as z from 'zod';
import { defineOperation, HttpResponse, type Operation } from '../../../platform/http/operation.ts';
import { repeated } from '../../../platform/http/wire.ts';
import { unservedOperation } from '../../api/genai.routes.ts';
import type { AssessmentChanges, AssessmentService } from '../assessment.service.ts';
import type { TraceInfo } from '../model.ts';
import type { SearchTracesInput, TracePage, TraceService } from '../trace.service.ts';
import {
  assessmentJson,
  assessmentToWire,
  idString,
  int64,
  keyValueList,
  newAssessmentInput,
  startTraceInput,
  traceIdsJson,
  traceInfoToJson,
  traceInfoV2ToJson,
  traceInfoV3Json,
  traceStateJson,
  traceToJson,
  valueFromJson,
} from './trace.wire.ts';

/** MLflow 3 serves its `since: 3.0` endpoints under these prefixes; the Router prefixes only 2.0. */
export const V3_PREFIXES = ['/api/3.0/', '/ajax-api/3.0/'] as const;

/**
 * The trace endpoints Runway answers 501 (they need aggregate span queries or a prompt registry),
 * each under the prefixes MLflow serves it.
 */
export function unservedTraceOperations(): Operation[] {
  return [
    ...v3(
      unservedOperation({
        method: 'POST',
        path: 'mlflow/traces/calculate-filter-correlation',
        rpc: 'calculateTraceFilterCorrelation',
        feature: 'trace analytics',
      }),
    ),
    ...v3(
      unservedOperation({
        method: 'POST',
        path: 'mlflow/traces/metrics',
        rpc: 'queryTraceMetrics',
        feature: 'trace analytics',
      }),
    ),
    unservedOperation({
      method: 'POST',
      path: 'mlflow/traces/link-prompts',
      rpc: 'linkPromptsToTrace',
      feature: 'prompts (Runway has no prompt registry)',
    }),
  ];
}

/** One operation per MLflow 3 prefix. */
function v3(operation: Operation): Operation[] {
  return V3_PREFIXES.map((prefix) => ({ ...operation, path: `${prefix}${operation.path}` }));
}

/** `allow_partial` and friends: protobuf JSON booleans, or `true`/`false` in a query string. */
const flag = () =>
  z.preprocess((value) => (typeof value === 'string' ? value.toLowerCase() === 'true' : value), z.boolean());

const traceId = z.string();
const tagKey = z.string({ error: "Missing value for required parameter 'key'" });

/** `DeleteTraces` (2.0) and `DeleteTracesV3` (3.0) read the same fields (MLflow's `_delete_traces`). */
const deleteTracesInput = z.object({
  experiment_id: idString(),
  max_timestamp_millis: int64().optional(),
  max_traces: int64().optional(),
  request_ids: repeated(z.string()).optional(),
});

/**
 * MLflow's trace endpoints (service.proto: `since: 3.0` ones under `/api/3.0/` and `/ajax-api/3.0/`,
 * the 2.x ones MLflow 3's client still calls, such as tags and link-to-run, under `/api/2.0/`),
 * served by the traces function, which holds the trace items and the spans' files.
 */
export function traceOperations(traces: TraceService, assessments: AssessmentService): Operation[] {
  const deleteTraces = defineOperation({
    method: 'POST',
    path: 'mlflow/traces/delete-traces',
    input: deleteTracesInput,
    handle: async (input) => ({
      traces_deleted: await traces.deleteTraces({
        experimentId: input.experiment_id,
        maxTimestampMillis: input.max_timestamp_millis,
        maxTraces: input.max_traces,
        traceIds: input.request_ids,
      }),
    }),
  });
  const getTraceInfoV3 = defineOperation({
    method: 'GET',
    path: 'mlflow/traces/{trace_id}',
    input: z.object({ trace_id: traceId }),
    handle: async ({ trace_id }) => ({
      trace: { trace_info: traceInfoToJson(await traces.getInfo(trace_id)) },
    }),
  });
  const setTag = (param: 'trace_id' | 'request_id') =>
    defineOperation({
      method: 'PATCH',
      path: `mlflow/traces/{${param}}/tags`,
      input: z.object({ [param]: traceId, key: tagKey, value: z.string().default('') }),
      handle: async (input: Record<string, string>) => {
        await traces.setTag(input[param] as string, input.key as string, input.value as string);
        return {};
      },
    });
  const deleteTag = (param: 'trace_id' | 'request_id') =>
    defineOperation({
      method: 'DELETE',
      path: `mlflow/traces/{${param}}/tags`,
      input: z.object({ [param]: traceId, key: tagKey }),
      handle: async (input: Record<string, string>) => {
        await traces.deleteTag(input[param] as string, input.key as string);
        return {};
      },
    });
  const assessmentRoutes: Operation[] = [
    defineOperation({
      method: 'POST',
      path: 'mlflow/traces/{trace_id}/assessments',
      input: z.object({ trace_id: traceId, assessment: assessmentJson }),
      handle: async ({ trace_id, assessment }) => ({
        assessment: assessmentToWire(await assessments.create(trace_id, newAssessmentInput(assessment))),
      }),
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/traces/{trace_id}/assessments/{assessment_id}',
      input: z.object({ trace_id: traceId, assessment_id: z.string() }),
      handle: async ({ trace_id, assessment_id }) => ({
        assessment: assessmentToWire(await assessments.get(trace_id, assessment_id)),
      }),
    }),
    defineOperation({
      method: 'PATCH',
      path: 'mlflow/traces/{trace_id}/assessments/{assessment_id}',
      input: z.object({
        trace_id: traceId,
        assessment_id: z.string(),
        assessment: assessmentJson,
        // A FieldMask in protobuf JSON is one comma-separated string of lowerCamelCase paths
        // (`assessmentName,feedback`); `{"paths": [...]}` is accepted too.
        update_mask: z
          .union([
            z.string().transform((paths) => paths.split(',')),
            z.object({ paths: z.array(z.string()).default([]) }).transform((mask) => mask.paths),
          ])
          .transform((paths) =>
            paths
              .map((path) => path.trim().replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`))
              .filter(Boolean),
          ),
      }),
      handle: async ({ trace_id, assessment_id, assessment, update_mask }) => ({
        assessment: assessmentToWire(
          await assessments.update(trace_id, assessment_id, assessmentChanges(assessment, update_mask)),
        ),
      }),
    }),
    defineOperation({
      method: 'DELETE',
      path: 'mlflow/traces/{trace_id}/assessments/{assessment_id}',
      input: z.object({ trace_id: traceId, assessment_id: z.string() }),
      handle: async ({ trace_id, assessment_id }) => {
        await assessments.delete(trace_id, assessment_id);
        return {};
      },
    }),
  ];

  const version3: Operation[] = [
    defineOperation({
      method: 'POST',
      path: 'mlflow/traces',
      input: z.object({
        trace: z.object(
          { trace_info: traceInfoV3Json },
          { error: "Missing value for required parameter 'trace'" },
        ),
      }),
      handle: async ({ trace }) => ({
        trace: { trace_info: traceInfoToJson(await traces.startTrace(startTraceInput(trace.trace_info))) },
      }),
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/traces/get',
      input: z.object({
        trace_id: z.string({ error: "Missing value for required parameter 'trace_id'" }),
        allow_partial: flag().default(false),
      }),
      handle: async ({ trace_id, allow_partial }) => ({
        trace: traceToJson(await traces.getTrace(trace_id, allow_partial)),
      }),
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/traces/batchGet',
      input: z.object({ trace_ids: traceIdsJson() }),
      handle: async ({ trace_ids }) => {
        const found = await traces.batchGetTraces(trace_ids);
        return found.length > 0 ? { traces: found.map(traceToJson) } : {};
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/traces/batchGetInfos',
      input: z.object({ trace_ids: traceIdsJson() }),
      handle: async ({ trace_ids }) => {
        const found = await traces.batchGetInfos(trace_ids);
        return found.length > 0 ? { trace_infos: found.map(traceInfoToJson) } : {};
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/traces/search',
      input: z.object({
        locations: z
          .array(
            z.object({
              type: z.union([z.string(), z.number()]).optional(),
              mlflow_experiment: z.object({ experiment_id: idString() }).optional(),
              inference_table: z.unknown().optional(),
            }),
          )
          .default([]),
        filter: z.string().optional(),
        max_results: int64().optional(),
        order_by: repeated(z.string()).optional(),
        page_token: z.string().optional(),
      }),
      handle: async (input) => {
        // Other kinds of locations (Databricks inference tables, Unity Catalog) hold no Runway traces.
        const experimentIds = input.locations.flatMap((location) =>
          location.mlflow_experiment ? [location.mlflow_experiment.experiment_id] : [],
        );
        return searchAnswer(
          await traces.search(searchInput({ ...input, experiment_ids: experimentIds })),
          traceInfoToJson,
        );
      },
    }),
    deleteTraces,
    getTraceInfoV3,
    setTag('trace_id'),
    deleteTag('trace_id'),
    ...assessmentRoutes,
  ];

  const version2: Operation[] = [
    defineOperation({
      method: 'POST',
      path: 'mlflow/traces',
      input: z.object({
        experiment_id: idString(),
        timestamp_ms: int64().default(0),
        request_metadata: keyValueList(),
        tags: keyValueList(),
      }),
      handle: async (input) => ({
        trace_info: traceInfoV2ToJson(
          await traces.startTraceV2({
            experimentId: input.experiment_id,
            timestampMs: input.timestamp_ms,
            metadata: input.request_metadata,
            tags: input.tags,
          }),
        ),
      }),
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/traces',
      input: z.object({
        experiment_ids: repeated(idString()),
        filter: z.string().optional(),
        max_results: int64().optional(),
        order_by: repeated(z.string()).optional(),
        page_token: z.string().optional(),
      }),
      handle: async (input) => {
        return searchAnswer(await traces.search(searchInput(input)), traceInfoV2ToJson);
      },
    }),
    deleteTraces,
    defineOperation({
      method: 'POST',
      path: 'mlflow/traces/link-to-run',
      input: z.object({
        trace_ids: traceIdsJson().default([]),
        run_id: z.string({ error: "Missing value for required parameter 'run_id'" }),
      }),
      handle: async ({ trace_ids, run_id }) => {
        await traces.linkToRun(trace_ids, run_id);
        return {};
      },
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/traces/{request_id}/info',
      input: z.object({ request_id: traceId }),
      handle: async ({ request_id }) => ({ trace_info: traceInfoV2ToJson(await traces.getInfo(request_id)) }),
    }),
    defineOperation({
      method: 'PATCH',
      path: 'mlflow/traces/{request_id}',
      input: z.object({
        request_id: traceId,
        timestamp_ms: int64(),
        status: traceStateJson().default('STATE_UNSPECIFIED'),
        request_metadata: keyValueList(),
        tags: keyValueList(),
      }),
      handle: async (input) => ({
        trace_info: traceInfoV2ToJson(
          await traces.endTraceV2(input.request_id, {
            timestampMs: input.timestamp_ms,
            state: input.status,
            metadata: input.request_metadata,
            tags: input.tags,
          }),
        ),
      }),
    }),
    getTraceInfoV3,
    setTag('request_id'),
    deleteTag('request_id'),
    // MLflow 2.22 declares the assessment endpoints under 2.0 (`{assessment.trace_id}`).
    ...assessmentRoutes,
    defineOperation({
      method: 'GET',
      path: '/ajax-api/2.0/mlflow/get-trace-artifact',
      input: z.object({
        request_id: z.string({ error: 'Request must include the "request_id" query parameter.' }),
      }),
      handle: async ({ request_id }) =>
        new HttpResponse(200, await traces.traceData(request_id), {
          'content-type': 'application/json',
          'content-disposition': 'attachment; filename=traces.json',
        }),
    }),
  ];

  return [...version3.flatMap(v3), ...version2, ...unservedTraceOperations()];
}

/** The search parameters of `SearchTraces` (2.x) and `SearchTracesV3`, once experiments are known. */
function searchInput(input: {
  experiment_ids: string[];
  filter?: string | undefined;
  max_results?: number | undefined;
  order_by?: string[] | undefined;
  page_token?: string | undefined;
}): SearchTracesInput {
  return {
    experimentIds: input.experiment_ids,
    filter: input.filter,
    maxResults: input.max_results,
    orderBy: input.order_by,
    pageToken: input.page_token,
  };
}

/** A search's answer: empty lists and tokens left out, as protobuf JSON does. */
function searchAnswer<T>(
  page: TracePage,
  toJson: (trace: TraceInfo) => T,
): { traces?: T[]; next_page_token?: string } {
  return {
    ...(page.traces.length > 0 ? { traces: page.traces.map(toJson) } : {}),
    ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
  };
}

/** `UpdateAssessment`'s fields by its `update_mask` paths (MLflow's `_update_assessment`). */
function assessmentChanges(
  assessment: z.output<typeof assessmentJson>,
  paths: readonly string[],
): AssessmentChanges {
  const changes: AssessmentChanges = {};
  for (const path of paths) {
    if (path === 'assessment_name') changes.name = assessment.assessment_name;
    else if (path === 'expectation')
      changes.expectation = valueFromJson({
        expectation: assessment.expectation ?? {},
      }) as AssessmentChanges['expectation'];
    else if (path === 'feedback')
      changes.feedback = valueFromJson({
        feedback: assessment.feedback ?? {},
      }) as AssessmentChanges['feedback'];
    else if (path === 'rationale') changes.rationale = assessment.rationale ?? '';
    else if (path === 'metadata') changes.metadata = new Map(Object.entries(assessment.metadata ?? {}));
    else if (path === 'valid') changes.valid = assessment.valid ?? true;
  }
  return changes;
}
