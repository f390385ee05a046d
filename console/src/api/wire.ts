/**
 * The API's wire shapes, imported as types from the very modules the handlers write them with
 * (`shared/`): never a hand-copied shape. `import type` leaves no server code in the bundle.
 */
import type { z } from 'zod';
import type { tokenToWire, WhoAmIWire } from '../../../shared/access/api/access.routes.ts';
import type {
  DeploymentWire,
  EndpointStatisticsWire,
  EndpointWire,
} from '../../../shared/deployments/endpoints/endpoints.wire.ts';
import type {
  CreateMonitorRequest,
  MonitorRunWire,
  MonitorSettingsWire,
  MonitorWire,
} from '../../../shared/monitoring/model.ts';
import type { FeatureReport } from '../../../shared/monitoring/run/feature-drift.ts';
import type { QualityReport } from '../../../shared/monitoring/run/quality.ts';
import type { HealthReport, MonitorReport } from '../../../shared/monitoring/run/report.ts';
import type {
  PipelineExecutionSummaryWire,
  PipelineExecutionWire,
} from '../../../shared/pipelines/api/pipelines.wire.ts';
import type { PipelineInputSchema } from '../../../shared/pipelines/model.ts';
import type { ModelVersionWire, RegisteredModelWire } from '../../../shared/registry/api/registry.wire.ts';
import type { ExperimentWire } from '../../../shared/tracking/api/experiment.wire.ts';
import type { metricToWire, runToWire } from '../../../shared/tracking/api/run.wire.ts';
import type { FileInfoWire } from '../../../shared/tracking/artifacts/api/artifacts.routes.ts';
import type { LoggedModelWire } from '../../../shared/tracking/logged-models/api/logged-model.wire.ts';
import type {
  AssessmentWire,
  TraceInfoWire,
  TraceWire,
} from '../../../shared/tracking/traces/api/trace.wire.ts';
import type {
  AnyValueWire,
  KeyValueWire,
  OtelSpanWire,
} from '../../../shared/tracking/traces/spans/span-record.ts';

export type {
  AnyValueWire,
  AssessmentWire,
  CreateMonitorRequest,
  DeploymentWire,
  EndpointStatisticsWire,
  EndpointWire,
  ExperimentWire,
  FeatureReport,
  FileInfoWire,
  HealthReport,
  KeyValueWire,
  LoggedModelWire,
  ModelVersionWire,
  MonitorReport,
  MonitorRunWire,
  MonitorSettingsWire,
  MonitorWire,
  OtelSpanWire,
  PipelineExecutionSummaryWire,
  PipelineExecutionWire,
  QualityReport,
  RegisteredModelWire,
  TraceInfoWire,
  TraceWire,
  WhoAmIWire,
};
export type RunWire = ReturnType<typeof runToWire>;
export type MetricWire = ReturnType<typeof metricToWire>;
export type TokenWire = ReturnType<typeof tokenToWire>;
/** What a pipeline execution's input may hold (the pipeline's own zod schema, before defaults). */
export type PipelineInput = z.input<typeof PipelineInputSchema>;

/** A metric point of `get-history-bulk-interval`: the metric with its run. */
export type RunMetricWire = MetricWire & { run_id: string };
