import { createHash, randomUUID } from 'node:crypto';
import { mapLimited } from '../../platform/concurrency.ts';
import {
  InvalidParameterError,
  NotImplementedError,
  ResourceDoesNotExistError,
} from '../../platform/errors.ts';
import { storePathOfRoot } from '../artifacts/artifact.service.ts';
import type { Clock } from '../ports.ts';
import { systemClock } from '../ports.ts';
import {
  decodeCursorPageToken,
  decodePageToken,
  encodeCursorPageToken,
  paginate,
  queryFingerprint,
} from '../search/index.ts';
import {
  checkCount,
  isTraceId,
  SPANS_IN_TRACKING_STORE,
  type StoredTrace,
  TRACE_DATA_FILE,
  TRACE_LIMITS,
  TRACE_METADATA,
  TRACE_TAGS,
  type TraceInfo,
  type TraceState,
  traceArtifactLocation,
  truncatePreview,
  validateTraceEntries,
  validateTraceId,
  validateTraceTag,
} from './model.ts';
import type { ExperimentLookup, RunLookup, SpanStore, TraceFields, TraceRepository } from './ports.ts';
import {
  compileTraceFilter,
  parseTraceFilter,
  parseTraceOrderBy,
  type SearchableTrace,
  sortTraces,
  timeOrdered,
  timeRange,
  traceFields,
} from './search/trace-filter.ts';
import type { OtelSpan } from './spans/otlp.decoder.ts';
import { dumpPyJson, type PyJson, PyJsonSyntaxError, PyObject, parsePyJson } from './spans/python-json.ts';
import {
  mlflowTraceId,
  rawSpanAttribute,
  SPAN_INPUTS_ATTRIBUTE,
  SPAN_OUTPUTS_ATTRIBUTE,
  type SpanRecord,
  spanRecordFromOtel,
  summarizeSpan,
} from './spans/span-record.ts';
import { traceNotFound, traceStorePath, updateTrace, upsertTrace } from './trace-store.ts';

/** A trace info as a client sends it (`StartTraceV3`): tags and metadata as entries, unchecked. */
export type StartTraceInput = Omit<TraceInfo, 'tags' | 'metadata'> & {
  tags: ReadonlyArray<readonly [string, string]>;
  metadata: ReadonlyArray<readonly [string, string]>;
};

export interface SearchTracesInput {
  experimentIds: readonly string[];
  filter?: string | undefined;
  /** `undefined` or 0: MLflow's default of 100. */
  maxResults?: number | undefined;
  orderBy?: readonly string[] | undefined;
  pageToken?: string | undefined;
}

export interface TracePage {
  traces: TraceInfo[];
  nextPageToken?: string | undefined;
}

/** A trace with its spans (`Trace`: info and span records). */
export interface TraceWithSpans {
  info: TraceInfo;
  spans: SpanRecord[];
}

export interface DeleteTracesInput {
  experimentId: string;
  maxTimestampMillis?: number | undefined;
  maxTraces?: number | undefined;
  traceIds?: readonly string[] | undefined;
}

export interface TraceServiceDeps {
  traces: TraceRepository;
  spans: SpanStore;
  experiments: ExperimentLookup;
  runs: RunLookup;
  clock?: Clock;
}

/** Concurrent reads of span files in one request. */
const SPAN_READS = 16;
/** Deletes at once when a request removes many traces (each is a few S3 calls). */
const DELETE_CONCURRENCY = 16;
/** Traces `DeleteTraces` removes by time in one request when `max_traces` does not say. */
const DELETE_BY_TIME_DEFAULT = 1000;

/**
 * MLflow 3 tracing: trace infos in the tracking table, spans as files in the artifact store at the
 * trace's artifact location (`traces.json`, which MLflow's client uploads and downloads itself, and
 * the span parts OTLP ingestion writes). See `README.md` for why and what each call costs.
 */
export class TraceService {
  private readonly traces: TraceRepository;
  private readonly spans: SpanStore;
  private readonly experiments: ExperimentLookup;
  private readonly runs: RunLookup;
  private readonly clock: Clock;

  constructor(deps: TraceServiceDeps) {
    this.traces = deps.traces;
    this.spans = deps.spans;
    this.experiments = deps.experiments;
    this.runs = deps.runs;
    this.clock = deps.clock ?? systemClock;
  }

  // -------------------------------------------------------------------------------------------
  // Creating
  // -------------------------------------------------------------------------------------------

  /**
   * `StartTraceV3`, which MLflow's client calls when a trace ends: stores the client's info, merged
   * with what span ingestion recorded. When every span arrived over OTLP (the count in the client's
   * `mlflow.trace.sizeStats`) and they are small enough to answer in one response, the answer
   * carries `mlflow.trace.spansLocation: TRACKING_STORE` and the client uploads nothing more;
   * otherwise it uploads `traces.json` to the artifact location, as against any MLflow server.
   */
  async startTrace(input: StartTraceInput): Promise<TraceInfo> {
    validateTraceId(input.traceId);
    const tags = validateTraceEntries('Tag', input.tags);
    const metadata = validateTraceEntries('Metadata', input.metadata);
    checkTime('request_time', input.requestTime);
    if (input.executionDuration !== undefined) checkTime('execution_duration', input.executionDuration);
    const experiment = await this.activeExperiment(input.experimentId);
    const stored = await upsertTrace(this.traces, input.traceId, (current) => {
      if (current && current.experimentId !== experiment.experimentId) throw otherExperiment(current);
      const mergedTags = new Map(current?.tags);
      for (const [key, value] of tags) mergedTags.set(key, value);
      mergedTags.set(
        TRACE_TAGS.artifactLocation,
        current?.tags.get(TRACE_TAGS.artifactLocation) ??
          traceArtifactLocation(experiment.artifactLocation, input.traceId),
      );
      const mergedMetadata = new Map(current?.metadata);
      for (const [key, value] of metadata) mergedMetadata.set(key, value);
      if (current && servesSpans(current, mergedMetadata))
        mergedTags.set(TRACE_TAGS.spansLocation, SPANS_IN_TRACKING_STORE);
      else mergedTags.delete(TRACE_TAGS.spansLocation);
      checkCount('Tag', mergedTags.size);
      checkCount('Metadata', mergedMetadata.size);
      const assessments = [...(current?.assessments ?? [])];
      for (const assessment of input.assessments) {
        if (!assessments.some((existing) => existing.assessmentId === assessment.assessmentId)) {
          assessments.push({ ...assessment, traceId: input.traceId });
        }
      }
      return {
        ...emptyTrace(input.traceId, experiment.experimentId),
        ...current,
        clientRequestId: input.clientRequestId ?? current?.clientRequestId,
        requestTime: input.requestTime,
        executionDuration: input.executionDuration,
        state: input.state,
        requestPreview: truncatePreview(input.requestPreview) ?? current?.requestPreview,
        responsePreview: truncatePreview(input.responsePreview) ?? current?.responsePreview,
        tags: mergedTags,
        metadata: mergedMetadata,
        assessments,
        clientFinished: true,
        linkedRuns: linkedRunsOf(current?.linkedRuns ?? [], mergedMetadata),
      };
    });
    return stored;
  }

  /** MLflow 2.x's `StartTrace`: a new trace, its id made by the server, `IN_PROGRESS`. */
  async startTraceV2(input: {
    experimentId: string;
    timestampMs: number;
    metadata: ReadonlyArray<readonly [string, string]>;
    tags: ReadonlyArray<readonly [string, string]>;
  }): Promise<TraceInfo> {
    checkTime('timestamp_ms', input.timestampMs);
    const tags = validateTraceEntries('Tag', input.tags);
    const metadata = validateTraceEntries('Metadata', input.metadata);
    const experiment = await this.activeExperiment(input.experimentId);
    const traceId = `tr-${randomUUID().replaceAll('-', '')}`;
    tags.set(TRACE_TAGS.artifactLocation, traceArtifactLocation(experiment.artifactLocation, traceId));
    checkCount('Tag', tags.size);
    const trace: StoredTrace = {
      ...emptyTrace(traceId, experiment.experimentId),
      requestTime: input.timestampMs,
      state: 'IN_PROGRESS',
      tags,
      metadata,
      linkedRuns: linkedRunsOf([], metadata),
    };
    await this.traces.put(trace, undefined);
    return trace;
  }

  /** MLflow 2.x's `EndTrace`: the end time, status, and more metadata and tags. */
  async endTraceV2(
    traceId: string,
    input: {
      timestampMs: number;
      state: TraceState;
      metadata: ReadonlyArray<readonly [string, string]>;
      tags: ReadonlyArray<readonly [string, string]>;
    },
  ): Promise<TraceInfo> {
    checkTime('timestamp_ms', input.timestampMs);
    const tags = validateTraceEntries('Tag', input.tags);
    const metadata = validateTraceEntries('Metadata', input.metadata);
    return updateTrace(this.traces, traceId, (current) => {
      const mergedTags = new Map([...current.tags, ...tags]);
      const mergedMetadata = new Map([...current.metadata, ...metadata]);
      checkCount('Tag', mergedTags.size);
      checkCount('Metadata', mergedMetadata.size);
      return {
        ...current,
        executionDuration: input.timestampMs - current.requestTime,
        state: input.state,
        tags: mergedTags,
        metadata: mergedMetadata,
        linkedRuns: linkedRunsOf(current.linkedRuns, mergedMetadata),
      };
    });
  }

  /**
   * Spans received over OTLP (`/v1/traces`), grouped by trace: each group is written as one span
   * part beside the trace's `traces.json`, and the trace's info is created or updated as MLflow's
   * `log_spans` does (earliest start, latest end, state and previews from the root span).
   */
  async ingestSpans(experimentId: string, spans: readonly OtelSpan[]): Promise<void> {
    if (spans.length === 0) return;
    const byTrace = new Map<string, OtelSpan[]>();
    for (const span of spans) byTrace.set(span.traceId, [...(byTrace.get(span.traceId) ?? []), span]);
    for (const [otelTraceId, group] of byTrace) {
      const traceId = mlflowTraceId(otelTraceId);
      const existing = await this.traces.get(traceId);
      // A trace's first spans create it, in an active experiment; later ones need no experiment read.
      let location = existing?.tags.get(TRACE_TAGS.artifactLocation);
      if (existing) {
        if (existing.experimentId !== experimentId) throw otherExperiment(existing);
      } else {
        const experiment = await this.activeExperiment(experimentId);
        location = traceArtifactLocation(experiment.artifactLocation, traceId);
      }
      const directory = otlpDirectory(this.spans, location as string, experimentId);
      const records = group.map(spanRecordFromOtel);
      const body = Buffer.from(dumpPyJson(new PyObject([['spans', records]])), 'utf8');
      // Named by content, so a retried request writes the same part once.
      const part = createHash('sha256').update(body).digest('hex').slice(0, 20);
      const known = new Set(existing?.spanIds);
      const added = new Set(group.map((span) => span.spanId).filter((id) => !known.has(id))).size;
      if (known.size + added > TRACE_LIMITS.spansPerTrace) {
        throw new InvalidParameterError(
          `Trace '${traceId}' would have more than ${TRACE_LIMITS.spansPerTrace} spans; Runway keeps at most that many per trace`,
        );
      }
      await this.spans.write(`${directory}/spans/${part}.json`, body, 'application/json');
      await upsertTrace(
        this.traces,
        traceId,
        (current) => {
          if (current && current.experimentId !== experimentId) throw otherExperiment(current);
          const base = current ?? {
            ...emptyTrace(traceId, experimentId),
            tags: new Map([[TRACE_TAGS.artifactLocation, location as string]]),
          };
          return mergeSpans(base, group, records, part, body.length);
        },
        { trace: existing },
      );
    }
  }

  // -------------------------------------------------------------------------------------------
  // Reading
  // -------------------------------------------------------------------------------------------

  async getInfo(traceId: string): Promise<TraceInfo> {
    return this.read(traceId);
  }

  /** Infos of the traces that exist among `traceIds`, in the order asked for. */
  async batchGetInfos(traceIds: readonly string[]): Promise<TraceInfo[]> {
    checkBatch(traceIds);
    return ordered(traceIds, await this.traces.getMany(traceIds.filter(isTraceId)));
  }

  /**
   * `GetTrace`: the trace and its spans, wherever they are (span parts, or the `traces.json` the
   * client uploaded). Without `allowPartial`, a trace without spans yet is answered 404, as MLflow
   * answers for one "not fully exported yet".
   */
  async getTrace(traceId: string, allowPartial: boolean): Promise<TraceWithSpans> {
    const trace = await this.read(traceId);
    const spans = await this.readSpans(trace);
    if (!allowPartial && spans.length === 0) {
      throw new ResourceDoesNotExistError(
        `Trace with ID ${traceId} is not fully exported yet, please try again later.`,
      );
    }
    return { info: trace, spans };
  }

  /** `BatchGetTraces`: the traces among `traceIds` that exist and have spans, in the order asked for. */
  async batchGetTraces(traceIds: readonly string[]): Promise<TraceWithSpans[]> {
    checkBatch(traceIds);
    const found = ordered(traceIds, await this.traces.getMany(traceIds.filter(isTraceId)));
    const loaded = await mapLimited(found, SPAN_READS, async (trace) => ({
      info: trace,
      spans: await this.readSpans(trace),
    }));
    let size = 0;
    return loaded.filter((trace) => {
      if (trace.spans.length === 0) return false;
      size += trace.spans.reduce((sum, span) => sum + dumpPyJson(span).length, 0);
      if (size > TRACE_LIMITS.responseBytes) {
        throw new InvalidParameterError(
          `The spans of these ${traceIds.length} traces exceed the ${TRACE_LIMITS.responseBytes} bytes one response can carry; ask for fewer at a time (MLFLOW_SEARCH_TRACES_MAX_BATCH_SIZE)`,
        );
      }
      return true;
    });
  }

  /** The trace's `traces.json` as stored (MLflow's `get-trace-artifact`), built from span parts if needed. */
  async traceData(traceId: string): Promise<Uint8Array> {
    const trace = await this.read(traceId);
    return Buffer.from(dumpPyJson(new PyObject([['spans', await this.readSpans(trace)]])), 'utf8');
  }

  /**
   * `SearchTracesV3`. Scans read only what the filter and order name of each trace (`traceFields`);
   * the page's traces are then read whole by id. A search by `run_id` reads the run's traces from
   * its index partition. In time order (MLflow's default, newest first, or oldest first) each
   * experiment's index partition is read page by page from where the last page ended, in key
   * order, until the page is full; any other order reads the experiments' partitions through, then
   * filters, sorts and pages in memory.
   */
  async search(input: SearchTracesInput): Promise<TracePage> {
    const maxResults = input.maxResults || TRACE_LIMITS.searchDefaultMaxResults;
    if (maxResults < 1 || maxResults > TRACE_LIMITS.searchMaxResults) {
      throw new InvalidParameterError(
        `Invalid value ${maxResults} for parameter 'max_results' supplied: it must be between 1 and ${TRACE_LIMITS.searchMaxResults}`,
      );
    }
    const experimentIds = [...new Set(input.experimentIds)];
    for (const id of experimentIds) {
      if (!/^\d+$/.test(id))
        throw new InvalidParameterError(`Invalid experiment ID '${id.slice(0, 100)}': it must be a number`);
    }
    const clauses = parseTraceFilter(input.filter);
    const terms = parseTraceOrderBy(input.orderBy);
    const matches = compileTraceFilter(clauses);
    const fingerprint = queryFingerprint(['traces', experimentIds, clauses, terms]);
    const fields = traceFields(clauses, terms);
    const byTime = timeOrdered(terms);
    let page: { traces: StoredTrace[]; nextPageToken: string | undefined };
    const run = clauses.find((clause) => clause.kind === 'run');
    if (run) {
      // The run's traces come from its own index partition, whatever the experiment holds.
      decodePageToken(input.pageToken, fingerprint);
      const linked = (await this.traces.tracesOfRun(run.value))
        .filter((entry) => experimentIds.includes(entry.experimentId))
        .map((entry) => entry.traceId);
      const candidates = (await this.traces.getMany(linked, fields)).filter(matches);
      const sorted = paginate(sortTraces(candidates, terms), input.pageToken, maxResults, fingerprint);
      page = { traces: sorted.items, nextPageToken: sorted.nextPageToken };
    } else if (byTime) {
      const cursor = parseCursor(decodeCursorPageToken(input.pageToken, fingerprint));
      page = await this.searchByTime(
        experimentIds,
        byTime.ascending,
        timeRange(clauses),
        fields,
        matches,
        maxResults,
        cursor,
        fingerprint,
      );
    } else {
      decodePageToken(input.pageToken, fingerprint);
      const all: StoredTrace[] = [];
      for (const experimentId of experimentIds) {
        for await (const trace of this.traces.scanByTime(
          experimentId,
          { ascending: false, ...timeRange(clauses) },
          fields,
        )) {
          if (matches(trace)) all.push(trace);
        }
      }
      const sorted = paginate(sortTraces(all, terms), input.pageToken, maxResults, fingerprint);
      page = { traces: sorted.items, nextPageToken: sorted.nextPageToken };
    }
    // The scans read a few fields of each trace; the page's traces are read whole, in page order.
    const whole =
      page.traces.length === 0
        ? []
        : ordered(
            page.traces.map((trace) => trace.traceId),
            await this.traces.getMany(page.traces.map((trace) => trace.traceId)),
          );
    return { traces: whole, nextPageToken: page.nextPageToken };
  }

  private async searchByTime(
    experimentIds: readonly string[],
    ascending: boolean,
    range: { from?: number; to?: number },
    fields: TraceFields,
    matches: (trace: SearchableTrace) => boolean,
    maxResults: number,
    cursor: Cursor | undefined,
    fingerprint: string,
  ): Promise<{ traces: StoredTrace[]; nextPageToken: string | undefined }> {
    // One lazy stream per experiment in (time, id) order, merged; MLflow breaks ties of one
    // millisecond by id ascending whatever the direction, so a millisecond's traces are re-sorted.
    const streams = experimentIds.map((experimentId) =>
      byMillisecond(
        this.traces.scanByTime(experimentId, { ascending, ...range, resumeAt: cursor?.time }, fields),
      ),
    );
    const heads = await Promise.all(streams.map((stream) => stream.next()));
    const page: StoredTrace[] = [];
    let more = false;
    for (;;) {
      let best = -1;
      for (let i = 0; i < heads.length; i++) {
        const head = heads[i];
        if (!head || head.done) continue;
        const current = heads[best];
        if (best < 0 || (current && !current.done && before(head.value, current.value, ascending))) best = i;
      }
      if (best < 0) break;
      const trace = (heads[best] as IteratorYieldResult<StoredTrace>).value;
      heads[best] = await (streams[best] as AsyncIterator<StoredTrace>).next();
      if (cursor && !after(trace, cursor, ascending)) continue;
      if (!matches(trace)) continue;
      if (page.length === maxResults) {
        more = true;
        break;
      }
      page.push(trace);
    }
    await Promise.all(streams.map((stream) => stream.return?.(undefined)));
    const last = page.at(-1);
    return {
      traces: page,
      nextPageToken:
        more && last ? encodeCursorPageToken([last.requestTime, last.traceId], fingerprint) : undefined,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Changing
  // -------------------------------------------------------------------------------------------

  async setTag(traceId: string, key: string, value: string): Promise<void> {
    const [tagKey, tagValue] = validateTraceTag(key, value);
    await updateTrace(this.traces, traceId, (current) => {
      const tags = new Map(current.tags).set(tagKey, tagValue);
      checkCount('Tag', tags.size);
      return { ...current, tags };
    });
  }

  async deleteTag(traceId: string, key: string): Promise<void> {
    await updateTrace(this.traces, traceId, (current) => {
      if (!current.tags.has(key)) {
        throw new ResourceDoesNotExistError(`No trace tag with key '${key}' for trace with ID '${traceId}'`);
      }
      const tags = new Map(current.tags);
      tags.delete(key);
      return { ...current, tags };
    });
  }

  /**
   * Deletes traces of one experiment, with their spans: by id, or the oldest ones that started at
   * or before `maxTimestampMillis` (at most `maxTraces`, or 1000). Ids of other experiments' traces
   * are ignored, as MLflow's store only deletes in the experiment named. Answers the count.
   */
  async deleteTraces(input: DeleteTracesInput): Promise<number> {
    const { experimentId, maxTimestampMillis, maxTraces } = input;
    const traceIds = input.traceIds ?? [];
    if (!/^\d+$/.test(experimentId))
      throw new InvalidParameterError(`Invalid experiment ID '${experimentId.slice(0, 100)}'`);
    if (maxTimestampMillis === undefined && traceIds.length === 0) {
      throw new InvalidParameterError('Either `max_timestamp_millis` or `trace_ids` must be specified.');
    }
    if (maxTimestampMillis !== undefined && traceIds.length > 0) {
      throw new InvalidParameterError('Only one of `max_timestamp_millis` and `trace_ids` can be specified.');
    }
    if (traceIds.length > 0 && maxTraces !== undefined) {
      throw new InvalidParameterError("`max_traces` can't be specified if `trace_ids` is specified.");
    }
    if (maxTraces !== undefined && (maxTraces <= 0 || maxTraces > DELETE_BY_TIME_DEFAULT)) {
      throw new InvalidParameterError(
        `\`max_traces\` must be a positive integer of at most ${DELETE_BY_TIME_DEFAULT}, received ${maxTraces}.`,
      );
    }
    if (traceIds.length > TRACE_LIMITS.deleteIds) {
      throw new InvalidParameterError(
        `At most ${TRACE_LIMITS.deleteIds} trace ids can be deleted at once; got ${traceIds.length}`,
      );
    }
    let doomed: StoredTrace[];
    if (traceIds.length > 0) {
      doomed = (await this.traces.getMany(traceIds.filter(isTraceId))).filter(
        (trace) => trace.experimentId === experimentId,
      );
    } else {
      doomed = [];
      const limit = maxTraces ?? DELETE_BY_TIME_DEFAULT;
      for await (const trace of this.traces.scanByTime(experimentId, {
        ascending: true,
        to: maxTimestampMillis,
      })) {
        doomed.push(trace);
        if (doomed.length === limit) break;
      }
    }
    // Spans first: a trace whose info is gone is never read again, so its files would be orphans.
    await mapLimited(doomed, DELETE_CONCURRENCY, async (trace) => {
      const location = trace.tags.get(TRACE_TAGS.artifactLocation);
      if (location === undefined) return;
      try {
        await this.spans.deleteTree(traceStorePath(this.spans, trace));
      } catch (error) {
        // Spans outside Runway's store are the client's to delete, as with run artifacts.
        if (!(error instanceof NotImplementedError)) throw error;
      }
    });
    await this.traces.deleteMany(doomed);
    return doomed.length;
  }

  /** `LinkTracesToRun`: the traces then match `run_id = '<run>'`. Unknown trace ids are skipped, as in MLflow. */
  async linkToRun(traceIds: readonly string[], runId: string): Promise<void> {
    if (traceIds.length === 0) return;
    if (traceIds.length > TRACE_LIMITS.linkTraces) {
      throw new InvalidParameterError(
        `Cannot link more than ${TRACE_LIMITS.linkTraces} traces to a run in a single request. Provided ${traceIds.length} traces.`,
      );
    }
    const run = await this.runs.find(runId);
    if (!run) throw new ResourceDoesNotExistError(`Run with id=${runId} not found`);
    if (run.lifecycleStage !== 'active') {
      throw new InvalidParameterError(
        `The run ${runId} must be in the 'active' state. Current state is ${run.lifecycleStage}.`,
      );
    }
    const found = await this.traces.getMany([...new Set(traceIds)].filter(isTraceId));
    await mapLimited(
      found.filter((trace) => !trace.linkedRuns.includes(runId)),
      SPAN_READS,
      (trace) =>
        updateTrace(this.traces, trace.traceId, (current) =>
          current.linkedRuns.includes(runId)
            ? current
            : { ...current, linkedRuns: [...current.linkedRuns, runId] },
        ),
    );
  }

  // -------------------------------------------------------------------------------------------
  // Spans
  // -------------------------------------------------------------------------------------------

  /**
   * A trace's span records: from its span parts when span ingestion received them (written once
   * into `traces.json`, which later reads take whole), else from the `traces.json` the client
   * uploaded; none when there is neither yet.
   */
  async readSpans(trace: StoredTrace): Promise<SpanRecord[]> {
    const directory = traceStorePath(this.spans, trace);
    const fromParts =
      trace.spanParts.length > 0 && trace.tags.get(TRACE_TAGS.spansLocation) === SPANS_IN_TRACKING_STORE;
    if (!fromParts || trace.compactedParts === trace.spanParts.length) {
      const file = await this.readSpanFile(`${directory}/${TRACE_DATA_FILE}`, trace.traceId);
      if (file !== undefined || !fromParts) return file ?? [];
    }
    const parts = await mapLimited(trace.spanParts, SPAN_READS, (part) =>
      this.readSpanFile(`${directory}/spans/${part}.json`, trace.traceId),
    );
    const records = mergeParts(parts.map((part) => part ?? []));
    await this.spans.write(
      `${directory}/${TRACE_DATA_FILE}`,
      Buffer.from(dumpPyJson(new PyObject([['spans', records]])), 'utf8'),
      'application/json',
    );
    await this.traces.markCompacted(trace.traceId, trace.spanParts.length, trace.revision);
    return records;
  }

  private async readSpanFile(path: string, traceId: string): Promise<SpanRecord[] | undefined> {
    const bytes = await this.spans.read(path, TRACE_LIMITS.responseBytes);
    if (bytes === undefined) return undefined;
    if (bytes === 'too-large') {
      throw new InvalidParameterError(
        `The spans of trace '${traceId}' are larger than the ${TRACE_LIMITS.responseBytes} bytes one response can carry; download its traces.json through the artifact proxy instead`,
      );
    }
    let parsed: PyJson;
    try {
      parsed = parsePyJson(Buffer.from(bytes).toString('utf8'));
    } catch (error) {
      if (error instanceof PyJsonSyntaxError) {
        throw new InvalidParameterError(`The span data of trace '${traceId}' is corrupted: ${error.message}`);
      }
      throw error;
    }
    const spans = parsed instanceof PyObject ? parsed.get('spans') : undefined;
    return Array.isArray(spans) ? spans.filter((span): span is PyObject => span instanceof PyObject) : [];
  }

  private async read(traceId: string): Promise<StoredTrace> {
    const trace = isTraceId(traceId) ? await this.traces.get(traceId) : undefined;
    if (!trace) throw traceNotFound(traceId);
    return trace;
  }

  private async activeExperiment(experimentId: string) {
    const experiment = await this.experiments.get(experimentId);
    if (experiment.lifecycleStage !== 'active') {
      throw new InvalidParameterError(
        `The experiment ${experiment.experimentId} must be in the 'active' state. Current state is ${experiment.lifecycleStage}.`,
      );
    }
    return experiment;
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function emptyTrace(traceId: string, experimentId: string): StoredTrace {
  return {
    traceId,
    experimentId,
    requestTime: 0,
    state: 'STATE_UNSPECIFIED',
    tags: new Map(),
    metadata: new Map(),
    assessments: [],
    spanParts: [],
    spanIds: [],
    spanBytes: 0,
    compactedParts: 0,
    linkedRuns: [],
    clientFinished: false,
    revision: 0,
  };
}

/**
 * Whether the tracking store answers the trace's spans: every span the client counted
 * (`mlflow.trace.sizeStats.num_spans`) arrived over OTLP, and they fit one response comfortably.
 */
function servesSpans(trace: StoredTrace, metadata: Map<string, string>): boolean {
  if (trace.spanParts.length === 0 || trace.spanBytes > TRACE_LIMITS.trackingStoreBytes) return false;
  const stats = metadata.get(TRACE_METADATA.sizeStats);
  if (stats === undefined) return false;
  try {
    const count = (JSON.parse(stats) as { num_spans?: unknown }).num_spans;
    return typeof count === 'number' && count === trace.spanIds.length;
  } catch {
    return false;
  }
}

/** MLflow's `log_spans` merge: time bounds, state from the root span, previews if unset. */
function mergeSpans(
  current: StoredTrace,
  spans: readonly OtelSpan[],
  records: readonly SpanRecord[],
  part: string,
  bytes: number,
): StoredTrace {
  if (current.spanParts.includes(part)) return current;
  const startMs = Number(smallest(spans.map((span) => span.startTimeUnixNano)) / 1_000_000n);
  const ends = spans.map((span) => span.endTimeUnixNano).filter((end) => end > 0n);
  const endMs = ends.length === 0 ? undefined : Number(largest(ends) / 1_000_000n);
  const fresh = current.spanParts.length === 0 && current.revision === 0;
  const previousEnd =
    current.executionDuration === undefined ? undefined : current.requestTime + current.executionDuration;
  const requestTime = fresh ? startMs : Math.min(current.requestTime, startMs);
  const end =
    endMs === undefined ? previousEnd : previousEnd === undefined ? endMs : Math.max(previousEnd, endMs);
  const rootIndex = spans.findIndex((span) => span.parentSpanId === undefined);
  const root = rootIndex >= 0 ? spans[rootIndex] : undefined;
  const rootRecord = rootIndex >= 0 ? records[rootIndex] : undefined;
  const tags = new Map(current.tags);
  // A trace the client already finished keeps its spans where the client was told they are.
  if (!current.clientFinished) tags.set(TRACE_TAGS.spansLocation, SPANS_IN_TRACKING_STORE);
  if (root && !tags.has(TRACE_TAGS.traceName)) tags.set(TRACE_TAGS.traceName, root.name);
  const ids = new Set(current.spanIds);
  for (const span of spans) ids.add(span.spanId);
  return {
    ...current,
    requestTime,
    executionDuration: end === undefined ? undefined : end - requestTime,
    state:
      root && (current.state === 'IN_PROGRESS' || current.state === 'STATE_UNSPECIFIED')
        ? root.status.code === 2
          ? 'ERROR'
          : 'OK'
        : current.state === 'STATE_UNSPECIFIED'
          ? 'IN_PROGRESS'
          : current.state,
    requestPreview:
      current.requestPreview ??
      (rootRecord ? truncatePreview(rawSpanAttribute(rootRecord, SPAN_INPUTS_ATTRIBUTE)) : undefined),
    responsePreview:
      current.responsePreview ??
      (rootRecord ? truncatePreview(rawSpanAttribute(rootRecord, SPAN_OUTPUTS_ATTRIBUTE)) : undefined),
    tags,
    spanParts: [...current.spanParts, part],
    spanIds: [...ids],
    spanBytes: current.spanBytes + bytes,
  };
}

/**
 * The spans of a trace's parts, one record per span id (a span sent again replaces the earlier
 * one), root first, then by start time: MLflow's order when it answers spans it stored.
 */
function mergeParts(parts: readonly SpanRecord[][]): SpanRecord[] {
  const byId = new Map<
    string,
    { record: SpanRecord; summary: NonNullable<ReturnType<typeof summarizeSpan>> }
  >();
  for (const records of parts) {
    for (const record of records) {
      const summary = summarizeSpan(record);
      if (summary) byId.set(summary.spanId, { record, summary });
    }
  }
  return [...byId.values()]
    .sort((a, b) => {
      const rootA = a.summary.parentSpanId === undefined ? 0 : 1;
      const rootB = b.summary.parentSpanId === undefined ? 0 : 1;
      if (rootA !== rootB) return rootA - rootB;
      return a.summary.startTimeUnixNano < b.summary.startTimeUnixNano
        ? -1
        : a.summary.startTimeUnixNano > b.summary.startTimeUnixNano
          ? 1
          : 0;
    })
    .map(({ record }) => record);
}

/**
 * Where span parts of a trace go. A location outside Runway's store is the client's to write: the
 * 501 carries the words MLflow's exporter looks for ("REST OTLP span logging is not supported"), so
 * the client stops sending spans and uploads `traces.json` itself.
 */
function otlpDirectory(spans: SpanStore, location: string, experimentId: string): string {
  try {
    return storePathOfRoot(spans, location, `Experiment ${experimentId}`);
  } catch (error) {
    if (error instanceof NotImplementedError) {
      throw new NotImplementedError(
        `REST OTLP span logging is not supported for this trace: ${error.message}`,
      );
    }
    throw error;
  }
}

function smallest(values: readonly bigint[]): bigint {
  // biome-ignore lint/complexity/useMathMinMax: Math.min does not take bigints (span times are nanoseconds past 2^53).
  return values.reduce((min, value) => (value < min ? value : min));
}

function largest(values: readonly bigint[]): bigint {
  // biome-ignore lint/complexity/useMathMinMax: Math.max does not take bigints (span times are nanoseconds past 2^53).
  return values.reduce((max, value) => (value > max ? value : max));
}

/**
 * A trace's run links: the runs it was linked to, and the run it was made in (`mlflow.sourceRun`),
 * so that a search by `run_id` finds both in the run's index partition.
 */
function linkedRunsOf(linked: readonly string[], metadata: Map<string, string>): string[] {
  const source = metadata.get(TRACE_METADATA.sourceRun);
  return source && !linked.includes(source) && isRunId(source) ? [...linked, source] : [...linked];
}

/** Run ids are 32 hex digits in MLflow; anything that could not be a key part is not linked. */
function isRunId(value: string): boolean {
  return value.length > 0 && value.length <= 256 && ![...value].some((char) => char < ' ');
}

function checkTime(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidParameterError(
      `Invalid value ${value} for parameter '${name}': it must be a non-negative number of milliseconds`,
    );
  }
}

function checkBatch(traceIds: readonly string[]): void {
  if (traceIds.length > TRACE_LIMITS.batchGet) {
    throw new InvalidParameterError(
      `At most ${TRACE_LIMITS.batchGet} trace ids can be read at once; got ${traceIds.length}`,
    );
  }
}

function ordered<T extends { traceId: string }>(ids: readonly string[], items: readonly T[]): T[] {
  const byId = new Map(items.map((item) => [item.traceId, item]));
  return [...new Set(ids)].flatMap((id) => {
    const item = byId.get(id);
    return item ? [item] : [];
  });
}

function otherExperiment(trace: StoredTrace): InvalidParameterError {
  return new InvalidParameterError(
    `Trace '${trace.traceId}' belongs to experiment ${trace.experimentId}; a trace cannot move to another experiment`,
  );
}

type Cursor = { time: number; traceId: string };

function parseCursor(value: unknown): Cursor | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string') {
    return { time: value[0], traceId: value[1] };
  }
  throw new InvalidParameterError('Invalid page token: it was not issued by this server');
}

/** Whether `a` comes before `b` in the page order: time (either way), then id ascending. */
function before(a: StoredTrace, b: StoredTrace, ascending: boolean): boolean {
  if (a.requestTime !== b.requestTime)
    return ascending ? a.requestTime < b.requestTime : a.requestTime > b.requestTime;
  return a.traceId < b.traceId;
}

function after(trace: StoredTrace, cursor: Cursor, ascending: boolean): boolean {
  if (trace.requestTime !== cursor.time)
    return ascending ? trace.requestTime > cursor.time : trace.requestTime < cursor.time;
  return trace.traceId > cursor.traceId;
}

/**
 * Re-orders each millisecond's traces by id ascending: the index holds a descending scan's ties by
 * id descending, and MLflow breaks ties by id ascending whichever way time runs.
 */
async function* byMillisecond(source: AsyncIterable<StoredTrace>): AsyncGenerator<StoredTrace> {
  let group: StoredTrace[] = [];
  for await (const trace of source) {
    if (group.length > 0 && group[0]!.requestTime !== trace.requestTime) {
      yield* group.sort((a, b) => (a.traceId < b.traceId ? -1 : 1));
      group = [];
    }
    group.push(trace);
  }
  yield* group.sort((a, b) => (a.traceId < b.traceId ? -1 : 1));
}
