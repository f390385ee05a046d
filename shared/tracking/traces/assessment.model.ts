import { randomUUID } from 'node:crypto';
import { InvalidParameterError } from '../../platform/errors.ts';
import { validateLength } from '../model.ts';

/** A JSON value (`google.protobuf.Value` in the protos): what a feedback or an expectation holds. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** `AssessmentSource.SourceType`. */
export const ASSESSMENT_SOURCE_TYPES = ['SOURCE_TYPE_UNSPECIFIED', 'HUMAN', 'LLM_JUDGE', 'CODE'] as const;
export type AssessmentSourceType = (typeof ASSESSMENT_SOURCE_TYPES)[number];

export interface AssessmentError {
  errorCode?: string | undefined;
  errorMessage?: string | undefined;
  stackTrace?: string | undefined;
}

/** What an assessment judges: feedback (a judge's or a person's verdict), an expectation, an issue. */
export type AssessmentValue =
  | { kind: 'feedback'; value?: JsonValue | undefined; error?: AssessmentError | undefined }
  | {
      kind: 'expectation';
      value?: JsonValue | undefined;
      serializedValue?: { serializationFormat?: string | undefined; value?: string | undefined } | undefined;
    }
  | { kind: 'issue'; issueName: string };

/** MLflow 3's `Assessment` (assessments.proto): feedback people or judges attach to a trace. */
export interface Assessment {
  /** `a-` and 32 hex digits, as MLflow's stores make them. */
  assessmentId: string;
  name: string;
  traceId: string;
  spanId?: string | undefined;
  source: { sourceType: AssessmentSourceType; sourceId: string };
  /** Milliseconds since the epoch. */
  createTime: number;
  lastUpdateTime: number;
  value: AssessmentValue;
  rationale?: string | undefined;
  metadata: Map<string, string>;
  /** The assessment this one replaces, which is then no longer `valid`. */
  overrides?: string | undefined;
  valid: boolean;
}

export const ASSESSMENT_LIMITS = {
  name: 250,
  sourceId: 250,
  rationale: 10_000,
  metadataKey: 250,
  metadataValue: 8000,
  metadataEntries: 100,
  /** One assessment, encoded; a trace's assessments share its DynamoDB item. */
  bytes: 64 * 1024,
  /** Assessments per trace. */
  perTrace: 200,
} as const;

export function newAssessmentId(): string {
  return `a-${randomUUID().replaceAll('-', '')}`;
}

/** Checks the parts of an assessment a client writes. */
export function validateAssessment(assessment: Assessment): Assessment {
  if (assessment.name === '')
    throw new InvalidParameterError("Missing value for required parameter 'assessment_name'");
  validateLength('Assessment name', assessment.name, ASSESSMENT_LIMITS.name);
  validateLength('Assessment source ID', assessment.source.sourceId, ASSESSMENT_LIMITS.sourceId);
  validateLength('Assessment rationale', assessment.rationale ?? '', ASSESSMENT_LIMITS.rationale);
  if (assessment.metadata.size > ASSESSMENT_LIMITS.metadataEntries) {
    throw new InvalidParameterError(
      `An assessment can have at most ${ASSESSMENT_LIMITS.metadataEntries} metadata entries; this one has ${assessment.metadata.size}`,
    );
  }
  for (const [key, value] of assessment.metadata) {
    validateLength('Assessment metadata key', key, ASSESSMENT_LIMITS.metadataKey);
    validateLength('Assessment metadata value', value, ASSESSMENT_LIMITS.metadataValue);
  }
  const size = Buffer.byteLength(JSON.stringify(assessmentToJson(assessment)), 'utf8');
  if (size > ASSESSMENT_LIMITS.bytes) {
    throw new InvalidParameterError(
      `The assessment is ${size} bytes encoded; an assessment may take at most ${ASSESSMENT_LIMITS.bytes}`,
    );
  }
  return assessment;
}

/** The assessment as it is stored (and answered): MLflow's protobuf JSON, times as milliseconds. */
export function assessmentToJson(a: Assessment): Record<string, unknown> {
  return {
    id: a.assessmentId,
    name: a.name,
    traceId: a.traceId,
    ...(a.spanId ? { spanId: a.spanId } : {}),
    source: a.source,
    createTime: a.createTime,
    lastUpdateTime: a.lastUpdateTime,
    value: a.value,
    ...(a.rationale !== undefined ? { rationale: a.rationale } : {}),
    metadata: Object.fromEntries(a.metadata),
    ...(a.overrides ? { overrides: a.overrides } : {}),
    valid: a.valid,
  };
}

/** Reads what {@link assessmentToJson} wrote. */
export function assessmentFromJson(json: Record<string, unknown>): Assessment {
  return {
    assessmentId: String(json.id),
    name: String(json.name),
    traceId: String(json.traceId),
    spanId: typeof json.spanId === 'string' ? json.spanId : undefined,
    source: json.source as Assessment['source'],
    createTime: Number(json.createTime),
    lastUpdateTime: Number(json.lastUpdateTime),
    value: json.value as AssessmentValue,
    rationale: typeof json.rationale === 'string' ? json.rationale : undefined,
    metadata: new Map(Object.entries((json.metadata ?? {}) as Record<string, string>)),
    overrides: typeof json.overrides === 'string' ? json.overrides : undefined,
    valid: json.valid !== false,
  };
}
