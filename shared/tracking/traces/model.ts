import { InvalidParameterError } from '../../platform/errors.ts';
import { validateLength, validateTagKey } from '../model.ts';
import type { Assessment } from './assessment.model.ts';

/** MLflow 3's `TraceInfoV3.State`. */
export const TRACE_STATES = ['STATE_UNSPECIFIED', 'OK', 'ERROR', 'IN_PROGRESS'] as const;
export type TraceState = (typeof TRACE_STATES)[number];

/**
 * A trace's metadata (MLflow 3's `TraceInfoV3`); its spans live beside it in the artifact store.
 * Tags and metadata are maps so that a key like `__proto__` is a key like any other.
 */
export interface TraceInfo {
  /** `tr-` and 32 hex digits for traces the MLflow 3 client or OTLP starts. */
  traceId: string;
  experimentId: string;
  clientRequestId?: string | undefined;
  /** Start, in milliseconds since the epoch. */
  requestTime: number;
  /** Milliseconds; absent while the trace runs. */
  executionDuration?: number | undefined;
  state: TraceState;
  requestPreview?: string | undefined;
  responsePreview?: string | undefined;
  tags: Map<string, string>;
  metadata: Map<string, string>;
  assessments: Assessment[];
}

/** What storage keeps of a trace beside its info: where its spans are and what links to it. */
export interface StoredTrace extends TraceInfo {
  /** Spans received over OTLP: one artifact per request (`spans/<part>.json`), in arrival order. */
  spanParts: string[];
  /** The distinct span ids received over OTLP (hex), to tell a complete trace from a partial one. */
  spanIds: string[];
  /** Bytes of span records received over OTLP. */
  spanBytes: number;
  /** How many of `spanParts` the trace's `traces.json` holds (0: none was written from them). */
  compactedParts: number;
  /**
   * Whether the MLflow client finished the trace (`StartTraceV3`, which it sends at the end). Span
   * parts that arrive later are kept, but no longer decide where the trace's spans are read from.
   */
  clientFinished: boolean;
  /** Runs the trace is linked to (`LinkTracesToRun`), beside the run in its `mlflow.sourceRun`. */
  linkedRuns: string[];
  /** Bumped by every write; writes are conditional on the revision they read. */
  revision: number;
}

/** Tag and metadata keys MLflow gives meaning to. */
export const TRACE_TAGS = {
  artifactLocation: 'mlflow.artifactLocation',
  spansLocation: 'mlflow.trace.spansLocation',
  traceName: 'mlflow.traceName',
} as const;
export const TRACE_METADATA = {
  sourceRun: 'mlflow.sourceRun',
  sizeStats: 'mlflow.trace.sizeStats',
} as const;

/** `mlflow.trace.spansLocation`: the client reads such a trace's spans from the tracking API. */
export const SPANS_IN_TRACKING_STORE = 'TRACKING_STORE';

/** The file MLflow keeps a trace's spans in, below the trace's artifact location. */
export const TRACE_DATA_FILE = 'traces.json';

/**
 * Limits. Where MLflow has one it is MLflow's (mlflow/utils/validation.py, mlflow/store/tracking,
 * the server's handlers); the others keep a trace's info inside one DynamoDB item and its answers
 * inside one Lambda response, and are refused with MLflow's INVALID_PARAMETER_VALUE.
 */
export const TRACE_LIMITS = {
  /** `MAX_TRACE_TAG_KEY_LENGTH`. */
  tagKey: 250,
  /** `MAX_TRACE_TAG_VAL_LENGTH`: longer values are truncated, as MLflow's `set_trace_tag` does. */
  tagValue: 8000,
  metadataKey: 250,
  /** Metadata values are truncated like tag values. */
  metadataValue: 8000,
  /** Tags of one trace; a trace is one DynamoDB item. */
  tagsPerTrace: 100,
  metadataPerTrace: 100,
  /** `TRACE_REQUEST_RESPONSE_PREVIEW_MAX_LENGTH_OSS`: previews are truncated to it. */
  preview: 1000,
  clientRequestId: 250,
  traceId: 64,
  /** What a trace's info may take in its DynamoDB item (400 KB), tags, metadata and assessments included. */
  itemBytes: 350_000,
  /** The search handler's `_assert_less_than_or_equal(max_results, 500)`. */
  searchMaxResults: 500,
  searchDefaultMaxResults: 100,
  /** Ids per `BatchGetTraces` / `BatchGetTraceInfos` (the client asks for 10 at a time). */
  batchGet: 100,
  /** Ids per `DeleteTraces` (the client sends 100 at a time). */
  deleteIds: 100,
  /** `MAX_TRACE_LINKS_PER_REQUEST`. */
  linkTraces: 100,
  /** Distinct spans one trace may receive over OTLP. */
  spansPerTrace: 2000,
  /**
   * Span bytes up to which a trace's spans are served by `GetTrace` (the tracking store); a larger
   * trace is left to the client's upload of `traces.json`, whose downloads redirect to S3.
   */
  trackingStoreBytes: 256 * 1024,
  /** An OTLP request body as it arrives (API Gateway and Lambda carry about 4.4 MiB of binary). */
  otlpBodyBytes: 4 * 1024 * 1024,
  /** An OTLP request body once decompressed (`Content-Encoding: gzip`): a bigger one is refused unread. */
  otlpDecodedBytes: 16 * 1024 * 1024,
  /** What `GetTrace` / `BatchGetTraces` answer at most: Lambda's 6 MB response less the JSON around it. */
  responseBytes: 4 * 1024 * 1024,
} as const;

const TRACE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;

/** Whether `traceId` can name a trace at all (anything else is a 404 on reads, a 400 on creates). */
export function isTraceId(traceId: string): boolean {
  return traceId.length <= TRACE_LIMITS.traceId && TRACE_ID.test(traceId);
}

export function validateTraceId(traceId: string): string {
  if (!isTraceId(traceId)) {
    throw new InvalidParameterError(
      `Invalid trace ID '${traceId.slice(0, 100)}': it must be at most ${TRACE_LIMITS.traceId} letters, digits and _.:- (MLflow's are tr- and 32 hex digits)`,
    );
  }
  return traceId;
}

/** A tag as `SetTraceTag` takes it (MLflow's `_validate_trace_tag`): the value truncated to 8000. */
export function validateTraceTag(key: string, value: string): [string, string] {
  validateTagKey(key, TRACE_LIMITS.tagKey);
  return [key, value.slice(0, TRACE_LIMITS.tagValue)];
}

/**
 * Tags and metadata as a trace's creator sends them (MLflow's stores take them as they come): keys
 * within 250 characters, values truncated, at most 100 of each.
 */
export function validateTraceEntries(
  what: 'Tag' | 'Metadata',
  entries: Iterable<readonly [string, string]>,
): Map<string, string> {
  const keyLimit = what === 'Tag' ? TRACE_LIMITS.tagKey : TRACE_LIMITS.metadataKey;
  const valueLimit = what === 'Tag' ? TRACE_LIMITS.tagValue : TRACE_LIMITS.metadataValue;
  const map = new Map<string, string>();
  for (const [key, value] of entries) {
    if (key === '') throw new InvalidParameterError(`${what} keys of a trace cannot be empty`);
    validateLength(`${what} key`, key, keyLimit);
    map.set(key, value.slice(0, valueLimit));
  }
  checkCount(what, map.size);
  return map;
}

export function checkCount(what: 'Tag' | 'Metadata', count: number): void {
  const limit = what === 'Tag' ? TRACE_LIMITS.tagsPerTrace : TRACE_LIMITS.metadataPerTrace;
  if (count > limit) {
    throw new InvalidParameterError(
      `A trace can have at most ${limit} ${what === 'Tag' ? 'tags' : 'metadata entries'}; this one would have ${count}`,
    );
  }
}

/** A preview as MLflow stores it: at most 1000 characters, the last three `...` when cut. */
export function truncatePreview(preview: string | undefined): string | undefined {
  if (preview === undefined) return undefined;
  return preview.length <= TRACE_LIMITS.preview
    ? preview
    : `${preview.slice(0, TRACE_LIMITS.preview - 3)}...`;
}

/** `append_to_uri_path(experiment.artifact_location, "traces", trace_id, "artifacts")`. */
export function traceArtifactLocation(experimentArtifactLocation: string, traceId: string): string {
  return `${experimentArtifactLocation.replace(/\/+$/, '')}/traces/${traceId}/artifacts`;
}

/** The end of a trace in milliseconds (`end_time` in filters): start plus duration, or the start. */
export function traceEndTime(trace: Pick<TraceInfo, 'requestTime' | 'executionDuration'>): number {
  return trace.requestTime + (trace.executionDuration ?? 0);
}
