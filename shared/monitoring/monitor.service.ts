import { randomBytes } from 'node:crypto';
import { ConflictError } from '../deployments/errors.ts';
import { InvalidParameterError, InvalidStateError, ResourceDoesNotExistError } from '../platform/errors.ts';
import { monitorNotFound } from './errors.ts';
import { RUN_ID } from './keys.ts';
import {
  MAX_WINDOW_SECONDS,
  MONITORING_PAGE_LIMITS,
  type Monitor,
  type MonitorRun,
  type MonitorSettingsWire,
} from './model.ts';
import { settingsFromWire } from './monitor.wire.ts';
import type {
  ArtifactReader,
  Clock,
  EndpointReader,
  ExecutionStarter,
  MonitorStore,
  Page,
  ScheduleManager,
} from './ports.ts';

export interface MonitorServiceDeps {
  store: MonitorStore;
  endpoints: EndpointReader;
  schedules: ScheduleManager;
  /** The monitor state machine; absent where it is not deployed (runs answer 501 then). */
  runs: ExecutionStarter;
  reports: ArtifactReader;
  clock?: Clock;
}

const UPDATE_ATTEMPTS = 5;
/** A report is one JSON file; the API answers it whole. */
const MAX_REPORT_BYTES = 4 * 1024 * 1024;

/**
 * The monitors resource: a monitor watches one endpoint on a schedule. Its schedule lives in
 * EventBridge Scheduler (one per monitor, written with the monitor), its runs are executions of the
 * monitor state machine, its reports are the runs' MLflow artifacts.
 */
export class MonitorService {
  private readonly clock: Clock;

  constructor(private readonly deps: MonitorServiceDeps) {
    this.clock = deps.clock ?? { now: () => Date.now() };
  }

  async create(name: string, endpointName: string, wire: MonitorSettingsWire): Promise<Monitor> {
    const settings = settingsFromWire(wire, undefined);
    const endpoint = await this.deps.endpoints.get(endpointName);
    if (!endpoint) throw new ResourceDoesNotExistError(`Endpoint '${endpointName}' does not exist`);
    const now = this.clock.now();
    const monitor: Monitor = {
      ...settings,
      name,
      endpointName,
      modelName: endpoint.modelName,
      createdAt: now,
      updatedAt: now,
    };
    const created = await this.deps.store.create(monitor);
    try {
      await this.deps.schedules.put(created);
    } catch (error) {
      // Without its schedule the monitor would never run: take it back and say why.
      await this.deps.store.delete(name);
      throw error;
    }
    return created;
  }

  async get(name: string): Promise<Monitor> {
    const monitor = await this.deps.store.get(name);
    if (!monitor) throw monitorNotFound(name);
    return monitor;
  }

  list(input: {
    maxResults?: number | undefined;
    pageToken?: string | undefined;
    endpointName?: string | undefined;
  }) {
    return this.deps.store.list(
      {
        maxResults: input.maxResults ?? MONITORING_PAGE_LIMITS.default,
        pageToken: input.pageToken || undefined,
      },
      input.endpointName,
    );
  }

  async update(name: string, wire: MonitorSettingsWire): Promise<Monitor> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.get(name);
      const {
        name: _n,
        endpointName: _e,
        modelName: _m,
        createdAt: _c,
        updatedAt: _u,
        lastRetrain,
        ...settings
      } = current;
      const next: Monitor = {
        ...settingsFromWire(wire, settings),
        name: current.name,
        endpointName: current.endpointName,
        modelName: current.modelName,
        createdAt: current.createdAt,
        updatedAt: this.clock.now(),
        ...(lastRetrain ? { lastRetrain } : {}),
      };
      try {
        const updated = await this.deps.store.update(next, current.updatedAt);
        if (updated.schedule !== current.schedule || updated.enabled !== current.enabled) {
          await this.deps.schedules.put(updated);
        }
        return updated;
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt >= UPDATE_ATTEMPTS) throw error;
      }
    }
  }

  async delete(name: string): Promise<void> {
    await this.get(name);
    // The schedule first: a run it starts after the monitor is gone ends at once (no monitor).
    await this.deps.schedules.delete(name);
    if (!(await this.deps.store.delete(name))) throw monitorNotFound(name);
  }

  /**
   * Starts a run now, over `[windowStart, windowEnd)` (default: the window that ends now). Answers the
   * run's id and execution.
   */
  async run(
    name: string,
    window: { windowStart?: number | undefined; windowEnd?: number | undefined },
  ): Promise<{ runId: string; executionArn: string; windowStart: number; windowEnd: number }> {
    const monitor = await this.get(name);
    const windowEnd = window.windowEnd ?? this.clock.now();
    const windowStart = window.windowStart ?? windowEnd - monitor.windowSeconds * 1000;
    if (windowStart >= windowEnd) {
      throw new InvalidParameterError(
        `window_start (${windowStart}) must be before window_end (${windowEnd})`,
      );
    }
    if (windowEnd - windowStart > MAX_WINDOW_SECONDS * 1000) {
      throw new InvalidParameterError(`A window is at most ${MAX_WINDOW_SECONDS} seconds (7 days)`);
    }
    const runId = `${String(windowEnd).padStart(13, '0')}-${randomBytes(4).toString('hex')}`;
    const { executionArn } = await this.deps.runs.start(`manual-${name.slice(0, 40)}-${runId}`, {
      monitor: name,
      trigger: 'manual',
      windowStart,
      windowEnd,
      runId,
    });
    return { runId, executionArn, windowStart, windowEnd };
  }

  async listRuns(
    name: string,
    input: { maxResults?: number | undefined; pageToken?: string | undefined },
  ): Promise<Page<MonitorRun>> {
    await this.get(name);
    return this.deps.store.listRuns(name, {
      maxResults: input.maxResults ?? MONITORING_PAGE_LIMITS.default,
      pageToken: input.pageToken || undefined,
    });
  }

  /** A run with its full report (the JSON the run wrote), once it has one. */
  async report(name: string, runId: string): Promise<{ run: MonitorRun; report: unknown }> {
    if (!RUN_ID.test(runId))
      throw new ResourceDoesNotExistError(`Monitor '${name}' has no run '${runId.slice(0, 100)}'`);
    const run = await this.deps.store.getRun(name, runId);
    if (!run) throw new ResourceDoesNotExistError(`Monitor '${name}' has no run '${runId}'`);
    if (!run.reportUri) return { run, report: null };
    const bytes = await this.deps.reports.read(run.reportUri, MAX_REPORT_BYTES);
    if (!(bytes instanceof Uint8Array)) {
      throw new InvalidStateError(
        `The report of run ${runId} is ${bytes === undefined ? 'missing' : 'too large to answer'} (${run.reportUri})`,
      );
    }
    return { run, report: JSON.parse(new TextDecoder().decode(bytes)) as unknown };
  }
}
