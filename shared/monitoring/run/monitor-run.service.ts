import { createHash, randomBytes } from 'node:crypto';
import * as z from 'zod';
import {
  computeStatistics,
  type DatasetStatistics,
  NumericAccumulator,
} from '../../pipelines/dataset/statistics.ts';
import { PIPELINE_TAGS } from '../../pipelines/model.ts';
import {
  causeText,
  experimentIdByName,
  MAX_DATASET_BYTES,
  parseDataset,
} from '../../pipelines/pipeline.service.ts';
import { parseSignature } from '../../serving/mlmodel.ts';
import { parseMlflowYaml } from '../../serving/mlmodel-yaml.ts';
import { MonitorRunError } from '../errors.ts';
import type { MonitoringEvent } from '../events/index.ts';
import { DriftDetected, HealthDegraded, QualityDegraded } from '../events/index.ts';
import { eventKindsOf } from '../events/names.ts';
import { type Monitor, type MonitorRun, monitorSettings, type RunFindings } from '../model.ts';
import type {
  ArtifactReader,
  ArtifactWriter,
  Clock,
  EndpointReader,
  MetricsSink,
  MonitoringEventPublisher,
  MonitorStore,
  MonitorTracking,
  ObjectSource,
  RegistryReader,
  ServingStats,
} from '../ports.ts';
import type { FeatureBaseline, FeatureReport, PredictionReference } from './feature-drift.ts';
import {
  findingsOf,
  formatReport,
  type HealthReport,
  type MonitorReport,
  metricsOf,
  summarize,
} from './report.ts';
import { analyzeWindow } from './window-analysis.ts';

/** What starts a run: the schedule (its scheduled time) or a person (`runway monitors run`). */
export const runRequest = z
  .object({
    monitor: z.string().min(1).max(63),
    trigger: z.enum(['schedule', 'manual']),
    /** EventBridge Scheduler's `<aws.scheduler.scheduled-time>`: the window ends there. */
    scheduledTime: z.string().optional(),
    windowStart: z.number().int().min(0).optional(),
    windowEnd: z.number().int().min(0).optional(),
    runId: z.string().optional(),
  })
  .strict();
export type RunRequest = z.infer<typeof runRequest>;

/** What `Prepare` hands the other steps (the execution's state). */
export interface RunPlan {
  runId: string;
  monitor: Monitor;
  trigger: 'schedule' | 'manual';
  windowStart: number;
  windowEnd: number;
  primaryVersion: string | null;
  versions: string[];
  storageLocation: string | null;
  baselineUri: string | null;
  baselineDescription: string;
  mlflow: { runId: string; experimentId: string; artifactUri: string };
  executionArn: string;
}

export type PrepareOutcome = { skip: true; reason: string } | { skip: false; plan: RunPlan };

export interface AnalyzeOutcome {
  findings: RunFindings;
  reportUri: string;
  events: MonitoringEvent[];
}

/** Drifted features an event names (the report has them all). */
const MAX_EVENT_FEATURES = 100;

const statisticsSchema = z.object({
  rows: z.number(),
  columns: z.array(
    z.looseObject({
      name: z.string(),
      type: z.enum(['integer', 'float', 'string']),
      count: z.number(),
      missing: z.number(),
    }),
  ),
});

export interface MonitorRunDeps {
  store: MonitorStore;
  endpoints: EndpointReader;
  registry: RegistryReader;
  tracking: MonitorTracking;
  artifacts: ArtifactReader & ArtifactWriter;
  capture: ObjectSource;
  stats: ServingStats;
  events: MonitoringEventPublisher;
  metrics: MetricsSink;
  clock?: Clock;
}

const utf8 = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The steps of a monitor run, one method per task of the monitor state machine
 * (`infra/constructs/monitor-state-machine.ts`): `prepare` claims the window (a duplicate start of
 * the same scheduled window ends there) and opens the MLflow run; `analyze` streams the window,
 * compares, writes the report and the run's metrics; `publish` puts the events on the bus, the
 * CloudWatch metrics, and closes the run; `fail` records a failure on both.
 */
export class MonitorRunService {
  private readonly clock: Clock;

  constructor(private readonly deps: MonitorRunDeps) {
    this.clock = deps.clock ?? { now: () => Date.now() };
  }

  async prepare(input: unknown, executionArn: string): Promise<PrepareOutcome> {
    const request = runRequest.parse(input);
    const stored = await this.deps.store.get(request.monitor);
    if (!stored) return { skip: true, reason: `monitor ${request.monitor} does not exist (deleted?)` };
    if (request.trigger === 'schedule' && !stored.enabled) {
      return { skip: true, reason: `monitor ${request.monitor} is disabled` };
    }
    // Settings stored by an older Runway get today's defaults.
    const monitor: Monitor = { ...stored, ...monitorSettings.parse(stored) };
    const now = this.clock.now();
    const { windowEnd, runId } = claimOf(request, now);
    const windowStart = request.windowStart ?? windowEnd - monitor.windowSeconds * 1000;
    const run: MonitorRun = {
      runId,
      monitorName: monitor.name,
      endpointName: monitor.endpointName,
      trigger: request.trigger,
      windowStart,
      windowEnd,
      status: 'Running',
      executionArn,
      startedAt: now,
    };
    if (!(await this.deps.store.createRun(run))) {
      const existing = await this.deps.store.getRun(monitor.name, runId);
      // A retried Prepare of this very execution goes on; another execution of the window stops.
      if (existing?.executionArn !== executionArn) {
        return {
          skip: true,
          reason: `run ${runId} of this window exists already (${existing?.executionArn})`,
        };
      }
    }
    return { skip: false, plan: await this.open(monitor, run, executionArn) };
  }

  /** What a claimed run needs: the endpoint's versions, the baseline, the MLflow run. */
  private async open(monitor: Monitor, run: MonitorRun, executionArn: string): Promise<RunPlan> {
    const { runId, windowStart, windowEnd, startedAt: now } = run;
    const endpoint = await this.deps.endpoints.get(monitor.endpointName);
    if (!endpoint) throw new MonitorRunError(`Endpoint '${monitor.endpointName}' does not exist`);
    const primary = endpoint.traffic.primary;
    const versions = [primary?.version, endpoint.traffic.canary?.version].filter((v): v is string => !!v);
    const baseline = await this.baselineOf(monitor, endpoint.modelName, primary?.version ?? null);
    const experimentId = await experimentIdByName(
      this.deps.tracking,
      `monitor-${monitor.endpointName}`,
      `Runs of the monitors of endpoint ${monitor.endpointName}`,
    );
    const existingRun = await this.deps.store.getRun(monitor.name, runId);
    const mlflowRun = existingRun?.mlflowRunId
      ? await this.deps.tracking.runs.get(existingRun.mlflowRunId)
      : await this.deps.tracking.runs.create({
          experimentId,
          runName: `${monitor.name}-${iso(windowEnd).slice(0, 16).replace(/[-:]/g, '')}`.slice(0, 250),
          startTime: now,
          tags: [
            { key: 'runway.monitor.name', value: monitor.name },
            { key: 'runway.monitor.run_id', value: runId },
            { key: 'runway.endpoint.name', value: monitor.endpointName },
            { key: 'runway.monitor.execution_arn', value: executionArn },
            { key: 'mlflow.source.type', value: 'JOB' },
            { key: 'mlflow.source.name', value: executionArn },
            { key: 'mlflow.user', value: 'runway-monitor' },
          ],
        });
    await this.deps.store.updateRun(monitor.name, runId, {
      mlflowRunId: mlflowRun.info.runId,
      experimentId,
    });
    return {
      runId,
      monitor,
      trigger: run.trigger,
      windowStart,
      windowEnd,
      primaryVersion: primary?.version ?? null,
      versions,
      storageLocation: primary?.storageLocation ?? null,
      baselineUri: baseline.uri,
      baselineDescription: baseline.description,
      mlflow: { runId: mlflowRun.info.runId, experimentId, artifactUri: mlflowRun.info.artifactUri },
      executionArn,
    };
  }

  async analyze(plan: RunPlan): Promise<AnalyzeOutcome> {
    const { monitor } = plan;
    const [baseline, model] = await Promise.all([
      plan.baselineUri ? this.readBaseline(plan.baselineUri, monitor) : undefined,
      plan.storageLocation ? this.modelInfo(plan.storageLocation) : undefined,
    ]);
    const references = new Map<string, FeatureBaseline>();
    for (const version of plan.versions) {
      const bytes = await this.deps.artifacts.readState(monitor.name, referencePath(version));
      if (bytes) references.set(version, (JSON.parse(utf8(bytes)) as PredictionReference).column);
    }
    const window = await analyzeWindow(this.deps.capture, {
      monitor,
      windowStart: plan.windowStart,
      windowEnd: plan.windowEnd,
      baseline,
      modelFeatures: model?.features,
      problemType: model?.problemType,
      positiveClass: model?.positiveClass,
      predictionReferences: references,
      seed: Number.parseInt(plan.runId.slice(-8), 16),
    });
    // Versions without a reference get one from their first window with enough predictions.
    const recorded: string[] = [];
    for (const [version, sample] of window.predictionSamples) {
      if (sample.values.length < monitor.minSamples) continue;
      const accumulator = new NumericAccumulator({ keepValues: true });
      for (const value of sample.values) accumulator.add(value);
      const numeric = accumulator.statistics();
      if (!numeric) continue;
      const reference: PredictionReference = {
        version: 1,
        modelVersion: version,
        windowEnd: plan.windowEnd,
        column: { name: 'prediction', type: 'float', count: sample.values.length, missing: 0, numeric },
      };
      await this.deps.artifacts.writeState(
        monitor.name,
        referencePath(version),
        new TextEncoder().encode(JSON.stringify(reference)),
      );
      recorded.push(version);
    }
    const health = await this.health(plan, Object.keys(window.rowsByVersion));
    const drifted = window.features.filter((f) => f.drifted).map((f) => f.name);
    const predictionDrifted = window.predictions.filter((p) => p.drifted).map((p) => p.modelVersion ?? '');
    const report: MonitorReport = {
      version: 1,
      monitor: monitor.name,
      endpoint: monitor.endpointName,
      model: monitor.modelName,
      runId: plan.runId,
      window: { start: iso(plan.windowStart), end: iso(plan.windowEnd) },
      generatedAt: iso(this.clock.now()),
      baseline: {
        description: plan.baselineDescription,
        uri: plan.baselineUri,
        modelVersion: monitor.baseline.type === 'training' ? plan.primaryVersion : null,
        rows: baseline?.rows ?? null,
      },
      data: {
        records: window.records,
        rows: window.rows,
        rowsByVersion: window.rowsByVersion,
        captureObjects: window.objects,
        skippedRecords: window.skipped,
        newColumns: window.newColumns,
        feedback: window.feedback,
      },
      notEnoughData: window.notEnoughData ?? null,
      drift: {
        tests: window.tests,
        significance: monitor.drift.significance,
        perTestSignificance: window.alpha,
        drifted,
        features: window.features,
      },
      predictionDrift: {
        drifted: predictionDrifted,
        versions: window.predictions,
        referencesRecorded: recorded,
      },
      quality: window.quality,
      health,
      summary: summarize({
        notEnoughData: window.notEnoughData ?? null,
        drifted,
        predictionDrifted,
        quality: window.quality,
        health,
      }),
    };
    const findings = findingsOf(report);
    const { artifactUri } = plan.mlflow;
    const reportUri = await this.deps.artifacts.writeRunArtifact(
      artifactUri,
      'monitoring/report.json',
      new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`),
      'application/json',
    );
    await this.deps.artifacts.writeRunArtifact(
      artifactUri,
      'monitoring/report.txt',
      new TextEncoder().encode(formatReport(report)),
      'text/plain',
    );
    const metrics = metricsOf(report, plan.primaryVersion);
    await this.logToMlflow(plan, metrics, findings);
    await this.deps.store.updateRun(monitor.name, plan.runId, { findings, reportUri });
    return { findings, reportUri, events: this.events(plan, report, reportUri) };
  }

  async publish(plan: RunPlan, outcome: AnalyzeOutcome): Promise<RunFindings> {
    if (outcome.events.length > 0) await this.deps.events.publish(outcome.events);
    this.deps.metrics.put(plan.monitor, outcome.findings);
    const now = this.clock.now();
    await this.deps.tracking.runs.update({ runId: plan.mlflow.runId, status: 'FINISHED', endTime: now });
    await this.deps.store.updateRun(plan.monitor.name, plan.runId, { status: 'Completed', finishedAt: now });
    return outcome.findings;
  }

  /** The failure path: the run and its MLflow run marked failed with the step and reason. */
  async fail(failure: {
    step: string;
    error: string;
    cause?: string | undefined;
    plan?: RunPlan | undefined;
    request?: unknown;
  }): Promise<{ error: string; cause: string }> {
    const reason = causeText(failure.cause);
    const cause = `${failure.step} failed: ${reason}`.slice(0, 32_000);
    const plan = failure.plan;
    if (!plan) {
      // Prepare failed after it claimed the window (the endpoint is gone, the baseline unreadable):
      // the claimed run says so rather than stay Running.
      const request = runRequest.safeParse(failure.request);
      if (request.success && (request.data.runId || request.data.scheduledTime)) {
        const { runId } = claimOf(request.data, this.clock.now());
        const claimed = await this.deps.store.getRun(request.data.monitor, runId);
        if (claimed?.status === 'Running') {
          await this.deps.store.updateRun(request.data.monitor, runId, {
            status: 'Failed',
            error: cause.slice(0, 5000),
            finishedAt: this.clock.now(),
          });
        }
      }
    }
    if (plan) {
      const now = this.clock.now();
      await this.deps.store.updateRun(plan.monitor.name, plan.runId, {
        status: 'Failed',
        error: cause.slice(0, 5000),
        finishedAt: now,
      });
      await this.deps.tracking.runs.logBatch({
        runId: plan.mlflow.runId,
        tags: [{ key: 'runway.monitor.error', value: cause.slice(0, 5000) }],
      });
      await this.deps.tracking.runs.update({ runId: plan.mlflow.runId, status: 'FAILED', endTime: now });
    }
    return { error: failure.error, cause };
  }

  private async baselineOf(
    monitor: Monitor,
    modelName: string,
    version: string | null,
  ): Promise<{ uri: string | null; description: string }> {
    if (monitor.baseline.type === 'dataset') {
      return { uri: monitor.baseline.datasetUri, description: `dataset ${monitor.baseline.datasetUri}` };
    }
    if (version === null) return { uri: null, description: 'none: the endpoint serves no version yet' };
    const found = await this.deps.registry.getVersion(modelName, version);
    const uri = found.tags[PIPELINE_TAGS.datasetStatistics];
    if (!uri) {
      return {
        uri: null,
        description: `none: ${modelName} version ${version} has no training statistics (tag ${PIPELINE_TAGS.datasetStatistics}); give the monitor a dataset baseline`,
      };
    }
    return { uri, description: `training statistics of ${modelName} version ${version} (${uri})` };
  }

  private async readBaseline(uri: string, monitor: Monitor): Promise<DatasetStatistics> {
    const bytes = await this.deps.artifacts.read(uri, MAX_DATASET_BYTES);
    if (bytes === undefined) throw new MonitorRunError(`The baseline ${uri} does not exist`);
    if (bytes === 'too-large') {
      throw new MonitorRunError(`The baseline ${uri} is larger than ${MAX_DATASET_BYTES} bytes`);
    }
    if (monitor.baseline.type === 'dataset') {
      try {
        return computeStatistics(parseDataset(bytes, uri));
      } catch (error) {
        throw new MonitorRunError(`The baseline dataset ${uri} cannot be read: ${(error as Error).message}`);
      }
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8(bytes));
    } catch {
      throw new MonitorRunError(`The baseline ${uri} is not JSON`);
    }
    if (!statisticsSchema.safeParse(parsed).success) {
      throw new MonitorRunError(`The baseline ${uri} is not dataset statistics`);
    }
    return parsed as DatasetStatistics;
  }

  /** What the served model says of its inputs and task (`MLmodel`: metadata and signature). */
  private async modelInfo(storageLocation: string): Promise<{
    features: string[] | undefined;
    problemType: 'binary_classification' | 'regression' | undefined;
    positiveClass: string | undefined;
  }> {
    const bytes = await this.deps.artifacts.read(
      `${storageLocation.replace(/\/+$/, '')}/MLmodel`,
      1024 * 1024,
    );
    if (!(bytes instanceof Uint8Array))
      return { features: undefined, problemType: undefined, positiveClass: undefined };
    let file: Record<string, unknown>;
    try {
      file = parseMlflowYaml(utf8(bytes)) as Record<string, unknown>;
    } catch {
      return { features: undefined, problemType: undefined, positiveClass: undefined };
    }
    const metadata = (file.metadata ?? {}) as Record<string, unknown>;
    let features: string[] | undefined;
    try {
      const listed = JSON.parse(String(metadata.features ?? 'null')) as unknown;
      if (Array.isArray(listed) && listed.every((name) => typeof name === 'string')) features = listed;
    } catch {
      features = undefined;
    }
    const signature = file.signature as { inputs?: string; outputs?: string } | undefined;
    if (!features && signature?.inputs) {
      try {
        const parsed = parseSignature(signature.inputs, signature.outputs);
        const names = parsed.inputs.specs.map((spec) => spec.name).filter((n): n is string => !!n);
        if (parsed.inputs.kind === 'column' && names.length > 0) features = names;
      } catch {
        // An unreadable signature names nothing.
      }
    }
    const type = metadata.model_type;
    return {
      features,
      problemType:
        type === 'logistic_regression'
          ? 'binary_classification'
          : type === 'linear_regression'
            ? 'regression'
            : undefined,
      positiveClass: typeof metadata.positive_class === 'string' ? metadata.positive_class : undefined,
    };
  }

  private async health(plan: RunPlan, seen: string[]): Promise<HealthReport[]> {
    const { health } = plan.monitor;
    const versions = [...new Set([...plan.versions, ...seen])].filter((v) => /^\d+$/.test(v));
    return Promise.all(
      versions.map(async (version): Promise<HealthReport> => {
        const stats = await this.deps.stats.read(
          plan.monitor.endpointName,
          version,
          plan.windowStart,
          plan.windowEnd,
        );
        const limits = { maxErrorRate: health.maxErrorRate, maxP99Ms: health.maxP99Ms };
        const base = {
          modelVersion: version,
          invocations: stats.invocations,
          errors: stats.errors,
          errorRate: stats.errorRate,
          p99Ms: stats.p99LatencyMs,
          limits,
        };
        if (stats.invocations < health.minInvocations) {
          return {
            ...base,
            breaches: [],
            notEnoughData: `not enough data (${stats.invocations} of ${health.minInvocations} invocations)`,
          };
        }
        const breaches: HealthReport['breaches'] = [];
        if (stats.errorRate > health.maxErrorRate) {
          breaches.push({ metric: 'error_rate', value: stats.errorRate, limit: health.maxErrorRate });
        }
        if (stats.p99LatencyMs !== null && stats.p99LatencyMs > health.maxP99Ms) {
          breaches.push({ metric: 'p99_ms', value: stats.p99LatencyMs, limit: health.maxP99Ms });
        }
        return { ...base, breaches };
      }),
    );
  }

  private async logToMlflow(plan: RunPlan, metrics: Record<string, number>, findings: RunFindings) {
    const { monitor } = plan;
    const timestamp = plan.windowEnd;
    const entries = Object.entries(metrics).map(([key, value]) => ({ key, value, timestamp, step: 0 }));
    const params = [
      ['monitor', monitor.name],
      ['endpoint', monitor.endpointName],
      ['window_start', iso(plan.windowStart)],
      ['window_end', iso(plan.windowEnd)],
      ['baseline', plan.baselineUri ?? 'none'],
      ['model_version', plan.primaryVersion ?? 'none'],
      ['min_samples', String(monitor.minSamples)],
      ['numeric_methods', monitor.drift.numericMethods.join(',')],
      ['significance', String(monitor.drift.significance)],
    ].map(([key, value]) => ({ key: key as string, value: (value as string).slice(0, 6000) }));
    const tags = [
      { key: 'runway.monitor.summary', value: findings.summary.slice(0, 5000) },
      { key: 'runway.monitor.drifted', value: findings.drifted.join(',').slice(0, 5000) },
      { key: 'mlflow.note.content', value: findings.summary.slice(0, 5000) },
    ];
    // log-batch takes 1000 metrics a call; a retried step logs the same params again (allowed: equal values).
    for (let i = 0; i < Math.max(1, entries.length); i += 1000) {
      await this.deps.tracking.runs.logBatch({
        runId: plan.mlflow.runId,
        metrics: entries.slice(i, i + 1000),
        ...(i === 0 ? { params, tags } : {}),
      });
    }
  }

  private events(plan: RunPlan, report: MonitorReport, reportUri: string): MonitoringEvent[] {
    const { monitor } = plan;
    const actions: Array<'retrain'> = monitor.actions.retrain ? ['retrain'] : [];
    const envelope = (name: string) => ({
      version: 1 as const,
      idempotencyKey: `${monitor.name}:${plan.runId}:${name}`,
      occurredAt: iso(this.clock.now()),
      monitorName: monitor.name,
      endpointName: monitor.endpointName,
      modelName: monitor.modelName,
      runId: plan.runId,
      windowStart: iso(plan.windowStart),
      windowEnd: iso(plan.windowEnd),
      reportUri,
      mlflowRunId: plan.mlflow.runId,
      actions,
    });
    const events: MonitoringEvent[] = [];
    const kinds = eventKindsOf(report);
    const drifted = [...report.drift.features, ...report.predictionDrift.versions].filter((f) => f.drifted);
    if (kinds.includes('drift')) {
      events.push({
        name: DriftDetected.name,
        detail: {
          ...envelope('drift'),
          modelVersion: plan.primaryVersion,
          rows: report.data.rows,
          features: drifted.slice(0, MAX_EVENT_FEATURES).map(eventFeature),
        },
      });
    }
    const quality = report.quality.flatMap((q) =>
      q.breaches.map((b) => ({
        modelVersion: q.modelVersion,
        metric: b.metric,
        value: b.value,
        limit: b.limit,
        labeled: q.labeled,
      })),
    );
    if (kinds.includes('quality'))
      events.push({ name: QualityDegraded.name, detail: { ...envelope('quality'), breaches: quality } });
    const health = report.health.flatMap((h) =>
      h.breaches.map((b) => ({
        modelVersion: h.modelVersion,
        metric: b.metric,
        value: b.value,
        limit: b.limit,
        invocations: h.invocations,
      })),
    );
    if (kinds.includes('health'))
      events.push({ name: HealthDegraded.name, detail: { ...envelope('health'), breaches: health } });
    return events;
  }
}

function eventFeature(feature: FeatureReport) {
  const s = feature.statistics;
  const live = feature.live as Record<string, unknown>;
  const base = (feature.baseline ?? {}) as Record<string, unknown>;
  return {
    name: feature.kind === 'prediction' ? `prediction@v${feature.modelVersion}` : feature.name,
    kind: feature.kind,
    type: feature.type,
    reasons: feature.reasons,
    ...(s.psi !== undefined ? { psi: s.psi } : {}),
    ...(s.ks !== undefined ? { ks: s.ks } : {}),
    ...(s.wasserstein !== undefined ? { wasserstein: s.wasserstein } : {}),
    ...(s.jensenShannon !== undefined ? { jensenShannon: s.jensenShannon } : {}),
    ...(s.lInfinity !== undefined ? { lInfinity: s.lInfinity } : {}),
    pValue: s.pValue,
    ...(typeof live.mean === 'number' ? { mean: live.mean } : {}),
    ...(typeof base.mean === 'number' ? { baselineMean: base.mean } : {}),
    missing: feature.missing,
  };
}

const referencePath = (version: string) => `prediction-reference/v${version}.json`;

/**
 * The window end and run id a request claims: a scheduled run's are its scheduled time's (to the
 * minute) and a hash of the monitor and that time, so a second delivery of one schedule claims the
 * same run; a manual run's come with the request (or now and random).
 */
function claimOf(request: RunRequest, now: number): { windowEnd: number; runId: string } {
  const scheduled = request.scheduledTime ? Date.parse(request.scheduledTime) : Number.NaN;
  const windowEnd = request.windowEnd ?? (Number.isNaN(scheduled) ? now : scheduled - (scheduled % 60_000));
  const suffix =
    request.trigger === 'schedule'
      ? createHash('sha256').update(`${request.monitor}\n${windowEnd}`).digest('hex').slice(0, 8)
      : randomBytes(4).toString('hex');
  return { windowEnd, runId: request.runId ?? `${String(windowEnd).padStart(13, '0')}-${suffix}` };
}

/** What each task of the monitor state machine sends the steps function. */
export const monitorStepPayload = z.discriminatedUnion('step', [
  z.object({ step: z.literal('prepare'), request: z.unknown(), executionArn: z.string().min(1) }),
  z.object({
    step: z.literal('analyze'),
    plan: z.custom<RunPlan>((value) => typeof value === 'object' && value !== null),
  }),
  z.object({
    step: z.literal('publish'),
    plan: z.custom<RunPlan>((value) => typeof value === 'object' && value !== null),
    outcome: z.custom<AnalyzeOutcome>((value) => typeof value === 'object' && value !== null),
  }),
  z.object({
    step: z.literal('fail'),
    failedStep: z.string(),
    error: z.string(),
    cause: z.string().optional(),
    plan: z.custom<RunPlan>().optional(),
    request: z.unknown().optional(),
  }),
]);
export type MonitorStepPayload = z.infer<typeof monitorStepPayload>;

/** Runs one step of the monitor state machine. */
export function runMonitorStep(service: MonitorRunService, payload: MonitorStepPayload): Promise<unknown> {
  switch (payload.step) {
    case 'prepare':
      return service.prepare(payload.request, payload.executionArn);
    case 'analyze':
      return service.analyze(payload.plan);
    case 'publish':
      return service.publish(payload.plan, payload.outcome);
    case 'fail':
      return service.fail({
        step: payload.failedStep,
        error: payload.error,
        cause: payload.cause,
        plan: payload.plan,
        request: payload.request,
      });
  }
}
