import type { Monitor, RunFindings } from '../model.ts';
import type { MetricsSink } from '../ports.ts';

/** The CloudWatch namespace of monitor runs' metrics. */
export const MONITORING_NAMESPACE = 'Runway/Monitoring';

/**
 * CloudWatch metrics of a run, as an embedded-metric-format log line (no PutMetricData call, no extra
 * permission: Lambda's log agent turns it into metrics). Few on purpose, since each metric that gets
 * data costs by the month: per monitor (dimensions Monitor and Endpoint) whether it found drift,
 * degraded quality or health, and the rows it read; and the three findings once more without
 * dimensions, which is what Runway's alarms watch, so a fixed set of alarms covers every monitor.
 * Every statistic of a run is an MLflow metric of its run (free to keep, plotted by any MLflow UI).
 */
export class EmfMetricsSink implements MetricsSink {
  constructor(private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)) {}

  put(monitor: Pick<Monitor, 'name' | 'endpointName'>, findings: RunFindings): void {
    const flags = {
      DriftDetected: findings.drifted.length > 0 || findings.predictionDrift ? 1 : 0,
      QualityDegraded: findings.qualityDegraded.length > 0 ? 1 : 0,
      HealthDegraded: findings.healthDegraded.length > 0 ? 1 : 0,
    };
    const flagMetrics = Object.keys(flags).map((name) => ({ Name: name, Unit: 'Count' }));
    this.write(
      JSON.stringify({
        _aws: {
          Timestamp: Date.now(),
          CloudWatchMetrics: [
            {
              Namespace: MONITORING_NAMESPACE,
              Dimensions: [['Monitor', 'Endpoint']],
              Metrics: [...flagMetrics, { Name: 'Rows', Unit: 'Count' }],
            },
            { Namespace: MONITORING_NAMESPACE, Dimensions: [[]], Metrics: flagMetrics },
          ],
        },
        Monitor: monitor.name,
        Endpoint: monitor.endpointName,
        ...flags,
        Rows: findings.rows,
      }),
    );
  }
}
