import type { MonitorRunWire } from '../api/wire.ts';
import { Status } from '../ui/common.tsx';

/** A run's verdicts as flags: drift (with the features), prediction drift, quality, health, too little data. */
export function RunFlags({ run }: { run: MonitorRunWire | undefined }) {
  if (!run) return <span class="muted small">no runs yet</span>;
  if (run.status !== 'Completed') return <Status value={run.status} />;
  const drifted = run.drifted_features ?? [];
  const quality = run.quality_degraded ?? [];
  const health = run.health_degraded ?? [];
  return (
    <span class="flags" data-testid="run-flags">
      {run.not_enough_data ? (
        <span class="flag flag-na" title={run.not_enough_data}>
          not enough data
        </span>
      ) : drifted.length > 0 ? (
        <span class="flag flag-bad" title={drifted.join(', ')}>
          drift: {drifted.join(', ')}
        </span>
      ) : (
        <span class="flag flag-ok">no drift</span>
      )}
      {run.prediction_drift ? <span class="flag flag-bad">prediction drift</span> : null}
      {quality.length > 0 ? (
        <span class="flag flag-bad" title={quality.join(', ')}>
          quality: {quality.join(', ')}
        </span>
      ) : null}
      {health.length > 0 ? (
        <span class="flag flag-bad" title={health.join(', ')}>
          health: {health.join(', ')}
        </span>
      ) : null}
    </span>
  );
}
