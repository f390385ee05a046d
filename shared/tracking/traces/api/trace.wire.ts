import * as z from 'zod';
import { idString, int64, protoEnum } from '../../../platform/http/wire.ts';
import {
  ASSESSMENT_SOURCE_TYPES,
  type Assessment,
  type AssessmentError,
  type AssessmentValue,
  type JsonValue,
  newAssessmentId,
} from '../assessment.model.ts';
import type { NewAssessment } from '../assessment.service.ts';
import { TRACE_STATES, type TraceInfo, type TraceState } from '../model.ts';
import { type OtelSpanWire, otelSpanJson, type SpanRecord } from '../spans/span-record.ts';
import type { StartTraceInput } from '../trace.service.ts';

/*
 * MLflow's trace messages in protobuf JSON (service.proto `TraceInfoV3`, `TraceInfo`, `Trace`;
 * assessments.proto `Assessment`), as its server writes them with `message_to_json`: snake_case,
 * empty lists and maps left out, `google.protobuf.Timestamp` as RFC 3339 text and `Duration` as
 * `"<seconds>s"`.
 */

// ---------------------------------------------------------------------------------------------
// Well-known types
// ---------------------------------------------------------------------------------------------

/** A `Timestamp` in protobuf JSON (`2025-04-15T08:49:18.699Z`) as milliseconds since the epoch. */
export const timestampJson = () =>
  z
    .string()
    .regex(
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/,
      'must be an RFC 3339 timestamp such as 2025-04-15T08:49:18.699Z',
    )
    .transform((text, context) => {
      const fraction = /\.(\d+)/.exec(text)?.[1] ?? '';
      const whole = Date.parse(text.replace(/\.\d+/, ''));
      if (Number.isNaN(whole)) {
        context.addIssue({ code: 'custom', message: 'is not a valid date' });
        return z.NEVER;
      }
      // Milliseconds are the first three digits of the fraction (protobuf's ToMilliseconds truncates).
      return whole + Number(`${fraction}000`.slice(0, 3));
    });

/** A `Duration` in protobuf JSON (`0.045s`, `3s`, `-1.5s`) as milliseconds. */
export const durationJson = () =>
  z
    .string()
    .regex(/^-?\d+(\.\d{1,9})?s$/, 'must be a duration such as 0.045s')
    .transform((text) => Math.round(Number(text.slice(0, -1)) * 1000));

export function timestampToJson(ms: number): string {
  const iso = new Date(ms).toISOString();
  // Protobuf writes no fraction for whole seconds, else 3, 6 or 9 digits.
  return ms % 1000 === 0 ? iso.replace('.000Z', 'Z') : iso;
}

export function durationToJson(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  const seconds = Math.floor(abs / 1000);
  const millis = abs % 1000;
  return millis === 0 ? `${sign}${seconds}s` : `${sign}${seconds}.${String(millis).padStart(3, '0')}s`;
}

/** A protobuf map (`map<string, string>`): a JSON object of strings. */
const stringMap = () => z.record(z.string(), z.string());

/** `google.protobuf.Value`: any JSON. */
const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.null(),
    z.boolean(),
    z.number(),
    z.string(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);

// ---------------------------------------------------------------------------------------------
// Trace infos
// ---------------------------------------------------------------------------------------------

/** `TraceInfoV3.State`, and MLflow 2.x's `TraceStatus` names for the same states. */
export const traceStateJson = () =>
  z.preprocess(
    (value) => (value === 'TRACE_STATUS_UNSPECIFIED' ? 'STATE_UNSPECIFIED' : value),
    protoEnum(TRACE_STATES),
  );

const assessmentSourceJson = z.object({
  source_type: protoEnum(ASSESSMENT_SOURCE_TYPES).default('SOURCE_TYPE_UNSPECIFIED'),
  source_id: z.string().default(''),
});
const assessmentErrorJson = z.object({
  error_code: z.string().optional(),
  error_message: z.string().optional(),
  stack_trace: z.string().optional(),
});

/** An `Assessment` as clients send it (create, or within a trace info). */
export const assessmentJson = z
  .object({
    assessment_id: z.string().optional(),
    // Required to create one (the service says so); an update names it only to rename.
    assessment_name: z.string().default(''),
    trace_id: z.string().optional(),
    span_id: z.string().optional(),
    source: assessmentSourceJson.optional(),
    create_time: timestampJson().optional(),
    last_update_time: timestampJson().optional(),
    feedback: z.object({ value: jsonValue.optional(), error: assessmentErrorJson.optional() }).optional(),
    expectation: z
      .object({
        value: jsonValue.optional(),
        serialized_value: z
          .object({ serialization_format: z.string().optional(), value: z.string().optional() })
          .optional(),
      })
      .optional(),
    issue: z.object({ issue_name: z.string() }).optional(),
    rationale: z.string().optional(),
    error: assessmentErrorJson.optional(),
    metadata: stringMap().optional(),
    overrides: z.string().optional(),
    valid: z.boolean().optional(),
  })
  .refine((a) => [a.feedback, a.expectation, a.issue].filter((v) => v !== undefined).length <= 1, {
    message: 'an assessment holds one of feedback, expectation or issue',
  });
export type AssessmentJson = z.output<typeof assessmentJson>;

export const traceInfoV3Json = z.object({
  trace_id: z.string({ error: "Missing value for required parameter 'trace.trace_info.trace_id'" }),
  client_request_id: z.string().optional(),
  trace_location: z.object({
    type: z.union([z.string(), z.number()]).optional(),
    mlflow_experiment: z.object(
      { experiment_id: idString() },
      { error: 'Runway keeps traces in MLflow experiments: trace_location.mlflow_experiment is required' },
    ),
  }),
  request_preview: z.string().optional(),
  response_preview: z.string().optional(),
  request_time: timestampJson(),
  execution_duration: durationJson().optional(),
  state: traceStateJson().optional(),
  trace_metadata: stringMap().optional(),
  tags: stringMap().optional(),
  assessments: z.array(assessmentJson).optional(),
});

export function startTraceInput(info: z.output<typeof traceInfoV3Json>): StartTraceInput {
  return {
    traceId: info.trace_id,
    experimentId: info.trace_location.mlflow_experiment.experiment_id,
    clientRequestId: info.client_request_id || undefined,
    requestTime: info.request_time,
    executionDuration: info.execution_duration,
    state: info.state ?? 'STATE_UNSPECIFIED',
    requestPreview: info.request_preview,
    responsePreview: info.response_preview,
    tags: Object.entries(info.tags ?? {}),
    metadata: Object.entries(info.trace_metadata ?? {}),
    assessments: (info.assessments ?? []).map((a) => ({
      ...newAssessmentInput(a),
      assessmentId: a.assessment_id || newAssessmentId(),
      traceId: info.trace_id,
      createTime: a.create_time ?? info.request_time,
      lastUpdateTime: a.last_update_time ?? a.create_time ?? info.request_time,
      valid: a.valid ?? true,
    })),
  };
}

/** A `TraceInfoV3` as the API answers it (MLflow's protobuf JSON: times as RFC 3339, durations as `1.5s`). */
export interface TraceInfoWire {
  trace_id: string;
  client_request_id?: string;
  trace_location: { type: 'MLFLOW_EXPERIMENT'; mlflow_experiment: { experiment_id: string } };
  request_preview?: string;
  response_preview?: string;
  request_time: string;
  execution_duration?: string;
  state: TraceState;
  trace_metadata?: Record<string, string>;
  assessments?: AssessmentWire[];
  tags?: Record<string, string>;
}

/** A `TraceInfoV3` in MLflow's protobuf JSON. */
export function traceInfoToJson(trace: TraceInfo): TraceInfoWire {
  return {
    trace_id: trace.traceId,
    ...(trace.clientRequestId ? { client_request_id: trace.clientRequestId } : {}),
    trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: trace.experimentId } },
    ...(trace.requestPreview !== undefined ? { request_preview: trace.requestPreview } : {}),
    ...(trace.responsePreview !== undefined ? { response_preview: trace.responsePreview } : {}),
    request_time: timestampToJson(trace.requestTime),
    ...(trace.executionDuration !== undefined
      ? { execution_duration: durationToJson(trace.executionDuration) }
      : {}),
    state: trace.state,
    ...(trace.metadata.size > 0 ? { trace_metadata: Object.fromEntries(trace.metadata) } : {}),
    ...(trace.assessments.length > 0 ? { assessments: trace.assessments.map(assessmentToWire) } : {}),
    ...(trace.tags.size > 0 ? { tags: Object.fromEntries(trace.tags) } : {}),
  };
}

/** MLflow 2.x's `TraceInfo` (`TraceInfoV2.from_v3`): status by `TraceStatus` name, maps as key/value lists. */
export function traceInfoV2ToJson(trace: TraceInfo): Record<string, unknown> {
  const pairs = (map: Map<string, string>) => [...map].map(([key, value]) => ({ key, value }));
  return {
    request_id: trace.traceId,
    experiment_id: trace.experimentId,
    timestamp_ms: trace.requestTime,
    execution_time_ms: trace.executionDuration ?? 0,
    status: trace.state === 'STATE_UNSPECIFIED' ? 'TRACE_STATUS_UNSPECIFIED' : trace.state,
    ...(trace.metadata.size > 0 ? { request_metadata: pairs(trace.metadata) } : {}),
    ...(trace.tags.size > 0 ? { tags: pairs(trace.tags) } : {}),
  };
}

/** A `Trace` as `GetTrace` answers it: the info and the OTel spans. */
export interface TraceWire {
  trace_info: TraceInfoWire;
  spans?: OtelSpanWire[];
}

/** A `Trace` (info and OTel spans) in MLflow's protobuf JSON. */
export function traceToJson(trace: { info: TraceInfo; spans: readonly SpanRecord[] }): TraceWire {
  const otelTraceId = /^tr-([0-9a-f]{32})$/.exec(trace.info.traceId)?.[1] ?? '0'.repeat(32);
  return {
    trace_info: traceInfoToJson(trace.info),
    ...(trace.spans.length > 0 ? { spans: trace.spans.map((span) => otelSpanJson(span, otelTraceId)) } : {}),
  };
}

/** MLflow 2.x's key/value lists (`request_metadata`, `tags`). */
export const keyValueList = () =>
  z
    .array(z.object({ key: z.string(), value: z.string().default('') }))
    .default([])
    .transform((entries) => entries.map(({ key, value }) => [key, value] as const));

export const traceIdsJson = () =>
  z.preprocess(
    (value) => (value === undefined || Array.isArray(value) ? value : [value]),
    z.array(z.string()),
  );

export { idString, int64 };

// ---------------------------------------------------------------------------------------------
// Assessments
// ---------------------------------------------------------------------------------------------

function errorFromJson(error: z.output<typeof assessmentErrorJson> | undefined): AssessmentError | undefined {
  return error === undefined
    ? undefined
    : { errorCode: error.error_code, errorMessage: error.error_message, stackTrace: error.stack_trace };
}

export function valueFromJson(
  a: Pick<AssessmentJson, 'feedback' | 'expectation' | 'issue' | 'error'>,
): AssessmentValue {
  if (a.expectation) {
    return {
      kind: 'expectation',
      value: a.expectation.value,
      serializedValue: a.expectation.serialized_value && {
        serializationFormat: a.expectation.serialized_value.serialization_format,
        value: a.expectation.serialized_value.value,
      },
    };
  }
  if (a.issue) return { kind: 'issue', issueName: a.issue.issue_name };
  return { kind: 'feedback', value: a.feedback?.value, error: errorFromJson(a.feedback?.error ?? a.error) };
}

export function newAssessmentInput(a: AssessmentJson): NewAssessment {
  return {
    name: a.assessment_name,
    spanId: a.span_id || undefined,
    source: {
      sourceType: a.source?.source_type ?? 'SOURCE_TYPE_UNSPECIFIED',
      sourceId: a.source?.source_id ?? '',
    },
    createTime: a.create_time,
    value: valueFromJson(a),
    rationale: a.rationale,
    metadata: new Map(Object.entries(a.metadata ?? {})),
    overrides: a.overrides || undefined,
  };
}

function errorToJson(error: AssessmentError): Record<string, string> {
  return {
    ...(error.errorCode !== undefined ? { error_code: error.errorCode } : {}),
    ...(error.errorMessage !== undefined ? { error_message: error.errorMessage } : {}),
    ...(error.stackTrace !== undefined ? { stack_trace: error.stackTrace } : {}),
  };
}

/** An `Assessment` as the API answers it (MLflow's protobuf JSON). */
export interface AssessmentWire {
  assessment_id: string;
  assessment_name: string;
  trace_id: string;
  span_id?: string;
  source: { source_type: string; source_id: string };
  create_time: string;
  last_update_time: string;
  feedback?: { value?: JsonValue; error?: Record<string, string> };
  expectation?: { value?: JsonValue; serialized_value?: { serialization_format?: string; value?: string } };
  issue?: { issue_name: string };
  rationale?: string;
  metadata?: Record<string, string>;
  overrides?: string;
  valid: boolean;
}

/** An `Assessment` in MLflow's protobuf JSON. */
export function assessmentToWire(a: Assessment): AssessmentWire {
  const value = a.value;
  return {
    assessment_id: a.assessmentId,
    assessment_name: a.name,
    trace_id: a.traceId,
    ...(a.spanId ? { span_id: a.spanId } : {}),
    source: { source_type: a.source.sourceType, source_id: a.source.sourceId },
    create_time: timestampToJson(a.createTime),
    last_update_time: timestampToJson(a.lastUpdateTime),
    ...(value.kind === 'feedback'
      ? {
          feedback: {
            ...(value.value !== undefined ? { value: value.value } : {}),
            ...(value.error ? { error: errorToJson(value.error) } : {}),
          },
        }
      : value.kind === 'expectation'
        ? {
            expectation: {
              ...(value.value !== undefined ? { value: value.value } : {}),
              ...(value.serializedValue
                ? {
                    serialized_value: {
                      ...(value.serializedValue.serializationFormat !== undefined
                        ? { serialization_format: value.serializedValue.serializationFormat }
                        : {}),
                      ...(value.serializedValue.value !== undefined
                        ? { value: value.serializedValue.value }
                        : {}),
                    },
                  }
                : {}),
            },
          }
        : { issue: { issue_name: value.issueName } }),
    ...(a.rationale !== undefined ? { rationale: a.rationale } : {}),
    ...(a.metadata.size > 0 ? { metadata: Object.fromEntries(a.metadata) } : {}),
    ...(a.overrides ? { overrides: a.overrides } : {}),
    valid: a.valid,
  };
}

export type { TraceState };
