import type { RolloutPolicy } from '../model.ts';

/** What the model server measured for one version of an endpoint since a point in time. */
export interface CanaryStats {
  invocations: number;
  /** Invocations that failed on the server's side (the model raised, timed out, could not load). */
  errors: number;
  /** The 99th percentile latency, or null when there were no invocations. */
  p99LatencyMs: number | null;
}

export type CanaryVerdict =
  | { healthy: true; errorRate: number }
  | { healthy: false; errorRate: number; reason: string };

const percent = (fraction: number) => `${Number((fraction * 100).toFixed(2))}%`;

/**
 * Whether a canary step may go on: its error rate and p99 latency within the policy's limits. Below
 * `minInvocations` the error rate and latency do not count yet (too few to judge), so the step passes
 * on the smoke test alone, as the rollout policy documents.
 */
export function judgeCanary(stats: CanaryStats, policy: RolloutPolicy, weight: number): CanaryVerdict {
  const errorRate = stats.invocations === 0 ? 0 : stats.errors / stats.invocations;
  if (stats.invocations === 0 || stats.invocations < policy.minInvocations)
    return { healthy: true, errorRate };
  if (errorRate > policy.maxErrorRate) {
    return {
      healthy: false,
      errorRate,
      reason: `the canary at ${weight}% failed ${stats.errors} of ${stats.invocations} invocations (${percent(errorRate)}), above the limit of ${percent(policy.maxErrorRate)}`,
    };
  }
  if (stats.p99LatencyMs !== null && stats.p99LatencyMs > policy.maxLatencyMs) {
    return {
      healthy: false,
      errorRate,
      reason: `the canary at ${weight}% answered in ${stats.p99LatencyMs} ms at p99, above the limit of ${policy.maxLatencyMs} ms`,
    };
  }
  return { healthy: true, errorRate };
}
