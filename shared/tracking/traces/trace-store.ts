import { jitter } from '../../platform/concurrency.ts';
import { InvalidStateError, NotImplementedError, ResourceDoesNotExistError } from '../../platform/errors.ts';
import { storePathOfRoot } from '../artifacts/artifact.service.ts';
import { isTraceId, type StoredTrace, TRACE_TAGS } from './model.ts';
import type { SpanStore, TraceRepository } from './ports.ts';

/** A writer that lost a race retries; this many lost races in a row is an outage, not a race. */
const MAX_ATTEMPTS = 12;

/**
 * The read-merge-write loop every change to a trace goes through: read the trace, let `change`
 * compute the new one from it, write it conditionally on the revision read, and start again when
 * another writer came first. `change` may throw (a domain error) to stop without writing.
 */
export async function updateTrace(
  traces: TraceRepository,
  traceId: string,
  change: (current: StoredTrace) => StoredTrace | Promise<StoredTrace>,
): Promise<StoredTrace> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = isTraceId(traceId) ? await traces.get(traceId) : undefined;
    if (!current) throw traceNotFound(traceId);
    const next = await change(current);
    if (await traces.put(next, current)) return { ...next, revision: current.revision + 1 };
    await jitter(attempt);
  }
  throw new InvalidStateError(`Trace '${traceId}' is being changed by many writers at once; retry`);
}

/**
 * Like {@link updateTrace}, creating the trace when it does not exist (`change` gets `undefined`).
 * `read` is the trace as the caller just read it, used for the first attempt (saving a read).
 */
export async function upsertTrace(
  traces: TraceRepository,
  traceId: string,
  change: (current: StoredTrace | undefined) => StoredTrace | Promise<StoredTrace>,
  read?: { trace: StoredTrace | undefined },
): Promise<StoredTrace> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = attempt === 0 && read ? read.trace : await traces.get(traceId);
    const next = await change(current);
    if (await traces.put(next, current)) return { ...next, revision: (current?.revision ?? 0) + 1 };
    await jitter(attempt);
  }
  throw new InvalidStateError(`Trace '${traceId}' is being changed by many writers at once; retry`);
}

/** MLflow's answer for an unknown trace. */
export function traceNotFound(traceId: string): ResourceDoesNotExistError {
  return new ResourceDoesNotExistError(`Trace with ID '${traceId.slice(0, 100)}' not found.`);
}

/**
 * The store path of a trace's artifact location (its `mlflow.artifactLocation` tag, or a location
 * given): proxied (`mlflow-artifacts:/...`) or in Runway's own bucket. Anywhere else the client
 * reads and writes the spans itself, with its own credentials: 501 saying so.
 */
export function traceStorePath(
  spans: SpanStore,
  trace: { traceId: string; tags: Map<string, string> },
): string {
  const location = trace.tags.get(TRACE_TAGS.artifactLocation);
  if (location === undefined) {
    throw new NotImplementedError(
      `Trace '${trace.traceId}' names no artifact location; its spans are not in Runway`,
    );
  }
  return storePathOfRoot(spans, location, `Trace '${trace.traceId}'`);
}
