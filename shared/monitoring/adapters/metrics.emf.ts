import type { Monitor, RunFindings } from '../model.ts';
import type { MetricsSink } from '../ports.ts';

/** The CloudWatch namespace of monitor runs' metrics. */
export const MONITORING_NAMESPACE = 'Runway/Monitoring';

/**
 * CloudWatch metrics of a run, as embedded-metric-format log lines (no PutMetricData call, no extra
 * permission: Lambda's log agent turns them into metrics). Each metric is written per monitor
 * (dimensions Monitor and Endpoint, for dashboards) and once without dimensions, which is what
 * Runway's alarms watch: a fixed set of alarms covers every monitor, present and future.
 */
export class EmfMetricsSink implements MetricsSink {
  constructor(private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)) {}

  put(
    monitor: Pick<Monitor, 'name' | 'endpointName'>,
    findings: RunFindings,
    values: Record<string, number>,
  ): void {
    const metrics: Record<string, number> = {
      DriftDetected: findings.drifted.length > 0 || findings.predictionDrift ? 1 : 0,
      FeaturesDrifted: findings.drifted.length,
      QualityDegraded: findings.qualityDegraded.length > 0 ? 1 : 0,
      HealthDegraded: findings.healthDegraded.length > 0 ? 1 : 0,
      NotEnoughData: findings.notEnoughData ? 1 : 0,
      Rows: findings.rows,
      Labeled: findings.labeled,
    };
    for (const [key, name] of [
      ['quality.accuracy', 'Accuracy'],
      ['quality.rmse', 'Rmse'],
      ['health.error_rate', 'ErrorRate'],
      ['health.p99_ms', 'P99LatencyMs'],
    ] as const) {
      if (values[key] !== undefined) metrics[name] = values[key];
    }
    const units: Record<string, string> = { P99LatencyMs: 'Milliseconds', Rows: 'Count', Labeled: 'Count' };
    this.write(
      JSON.stringify({
        _aws: {
          Timestamp: Date.now(),
          CloudWatchMetrics: [
            {
              Namespace: MONITORING_NAMESPACE,
              Dimensions: [['Monitor', 'Endpoint'], []],
              Metrics: Object.keys(metrics).map((name) => ({ Name: name, Unit: units[name] ?? 'None' })),
            },
          ],
        },
        Monitor: monitor.name,
        Endpoint: monitor.endpointName,
        ...metrics,
      }),
    );
  }
}
