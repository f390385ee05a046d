import { createHash } from 'node:crypto';
import type { Logger } from '../platform/logger.ts';
import { DriftDetected, QualityDegraded } from './events/index.ts';
import type { Clock, ExecutionStarter, MonitorStore } from './ports.ts';

export type RetrainDecision =
  | { outcome: 'started' | 'duplicate'; executionArn: string; executionName: string }
  | { outcome: 'skipped'; reason: string };

/**
 * The loop that closes itself: a drift or quality event of a monitor whose actions include `retrain`
 * starts the training pipeline with the monitor's pipeline input. At most one retraining per cooldown
 * (a conditional write on the monitor takes it), and never two for one event: the execution is named
 * after the monitor run that found the problem, so the event, its duplicates and retries of this
 * function start one execution at most (Step Functions refuses a second of one name). What happens
 * next is the pipeline's to decide: its gate and champion check, then continuous deployment's canary.
 */
export class RetrainService {
  constructor(
    private readonly deps: { store: MonitorStore; pipeline: ExecutionStarter; clock?: Clock; logger: Logger },
  ) {}

  async handle(detailType: string, detail: unknown): Promise<RetrainDecision> {
    const kind =
      detailType === DriftDetected.name
        ? 'drift'
        : detailType === QualityDegraded.name
          ? 'quality'
          : undefined;
    if (!kind) return { outcome: 'skipped', reason: `${detailType} does not retrain` };
    const schema = kind === 'drift' ? DriftDetected.schema : QualityDegraded.schema;
    const parsed = schema.safeParse(detail);
    if (!parsed.success) return { outcome: 'skipped', reason: `the event does not match ${detailType} v1` };
    const event = parsed.data;
    const monitor = await this.deps.store.get(event.monitorName);
    if (!monitor) return { outcome: 'skipped', reason: `monitor ${event.monitorName} no longer exists` };
    const retrain = monitor.actions.retrain;
    if (!retrain) return { outcome: 'skipped', reason: `monitor ${monitor.name} has no retrain action` };
    if (!retrain.on.includes(kind))
      return { outcome: 'skipped', reason: `monitor ${monitor.name} does not retrain on ${kind}` };
    const now = (this.deps.clock ?? { now: () => Date.now() }).now();
    const claim = await this.deps.store.claimRetrain(
      monitor.name,
      event.runId,
      now,
      retrain.cooldownSeconds * 1000,
    );
    if (claim === 'cooldown') {
      return {
        outcome: 'skipped',
        reason: `monitor ${monitor.name} retrained less than ${retrain.cooldownSeconds} s ago (${monitor.lastRetrain?.runId})`,
      };
    }
    const executionName = retrainExecutionName(monitor.name, event.runId);
    const started = await this.deps.pipeline.start(executionName, retrain.pipelineInput);
    await this.deps.store.recordRetrain(monitor.name, event.runId, started.executionArn);
    this.deps.logger.info('retraining started', {
      monitor: monitor.name,
      runId: event.runId,
      executionName,
      outcome: started.outcome,
    });
    return { outcome: started.outcome, executionArn: started.executionArn, executionName };
  }
}

/** `retrain-<monitor>-<hash of the run>`: at most 80 characters, one per monitor run. */
export function retrainExecutionName(monitor: string, runId: string): string {
  const digest = createHash('sha256').update(`${monitor}\n${runId}`).digest('hex').slice(0, 24);
  return `retrain-${monitor.slice(0, 40)}-${digest}`;
}
