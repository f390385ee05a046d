/**
 * The monitoring events' names, and which of them a report raises: a plain module without zod, so the
 * console names the events a run published with the very rule the run publishes them by.
 */
export const MONITORING_EVENT_NAMES = {
  drift: 'monitoring.drift-detected',
  quality: 'monitoring.quality-degraded',
  health: 'monitoring.health-degraded',
} as const;

export type MonitoringEventKind = keyof typeof MONITORING_EVENT_NAMES;

/** What of a report decides its events (`run/report.ts`'s MonitorReport has these fields). */
export interface ReportVerdicts {
  drift: { features: ReadonlyArray<{ drifted: boolean }> };
  predictionDrift: { versions: ReadonlyArray<{ drifted: boolean }> };
  quality: ReadonlyArray<{ breaches: readonly unknown[] }>;
  health: ReadonlyArray<{ breaches: readonly unknown[] }>;
}

/**
 * The events a run publishes for its report: drift when a feature or a version's predictions drifted,
 * quality and health when a version broke a limit (a window with too little data breaks nothing).
 */
export function eventKindsOf(report: ReportVerdicts): MonitoringEventKind[] {
  const kinds: MonitoringEventKind[] = [];
  if ([...report.drift.features, ...report.predictionDrift.versions].some((f) => f.drifted))
    kinds.push('drift');
  if (report.quality.some((q) => q.breaches.length > 0)) kinds.push('quality');
  if (report.health.some((h) => h.breaches.length > 0)) kinds.push('health');
  return kinds;
}
