/**
 * The promotion gate (TFX's "blessing"): a candidate passes when its held-out metric clears the
 * configured threshold and beats the model currently under the target alias, scored on the same
 * held-out rows. Both comparisons respect the metric's direction (lower is better for errors).
 */
import { isLowerBetter, type MetricName } from './metrics.ts';

export interface GateInput {
  metric: MetricName;
  candidate: number;
  threshold: number;
  /** The model under the alias, when there is one, and its value of the metric on the same rows. */
  champion?: { version: string; value: number } | undefined;
  /** The alias whose model the candidate must beat. */
  alias?: string | undefined;
}

export interface GateDecision {
  passed: boolean;
  reason: string;
}

export function decideGate(input: GateInput): GateDecision {
  const lower = isLowerBetter(input.metric);
  const better = (a: number, b: number) => (lower ? a < b : a > b);
  const clears = lower ? input.candidate <= input.threshold : input.candidate >= input.threshold;
  const value = `${input.metric} = ${input.candidate.toPrecision(6)}`;
  if (!clears) {
    return {
      passed: false,
      reason: `${value} does not clear the threshold ${input.threshold} (${lower ? 'at most' : 'at least'})`,
    };
  }
  const { champion } = input;
  if (champion && !better(input.candidate, champion.value)) {
    return {
      passed: false,
      reason: `${value} does not beat version ${champion.version} under alias "${input.alias}" (${champion.value.toPrecision(6)} on the same held-out rows)`,
    };
  }
  return {
    passed: true,
    reason: champion
      ? `${value} clears the threshold ${input.threshold} and beats version ${champion.version} under alias "${input.alias}" (${champion.value.toPrecision(6)})`
      : `${value} clears the threshold ${input.threshold}${input.alias ? ` and no model is under alias "${input.alias}" yet` : ''}`,
  };
}
