import type { Logger } from '../../platform/logger.ts';
import type { ModelState } from '../../registry/ports.ts';
import type { DeploymentLedger, EndpointDirectory, ExecutionStarter, RegistryReader } from './ports.ts';
import { type DeployDecision, DeployPlanner } from './trigger.service.ts';

export interface ReconcilerDeps {
  endpoints: EndpointDirectory;
  ledger: Pick<DeploymentLedger, 'get'>;
  registry: RegistryReader;
  executions: ExecutionStarter;
  logger: Logger;
}

export interface ReconcileReport {
  endpoints: number;
  started: number;
  decisions: DeployDecision[];
}

/**
 * Repairs what events missed (events are hints, state is truth): on a schedule, compares what the
 * registry names for each endpoint with what the endpoint serves, and starts the deploys that differ.
 * An endpoint a deploy holds is left to that deploy. The execution name is the one the event would
 * have started, so a deploy the event did start (running, succeeded, failed or rolled back) is never
 * started again: a version that failed is retried only when the registry names it anew.
 */
export class Reconciler {
  private readonly planner: DeployPlanner;

  constructor(private readonly deps: ReconcilerDeps) {
    this.planner = new DeployPlanner(deps);
  }

  async reconcile(): Promise<ReconcileReport> {
    const decisions: DeployDecision[] = [];
    const models = new Map<string, Promise<ModelState | undefined>>();
    let pageToken: string | undefined;
    let count = 0;
    do {
      const page = await this.deps.endpoints.list(pageToken);
      pageToken = page.nextPageToken;
      count += page.endpoints.length;
      for (const endpoint of page.endpoints) {
        const state = await this.deps.ledger.get(endpoint.name);
        if (!state) continue;
        if (state.active) {
          decisions.push({ endpointName: endpoint.name, outcome: 'busy' });
          continue;
        }
        let model = models.get(endpoint.modelName);
        if (!model) {
          model = this.deps.registry.get(endpoint.modelName);
          models.set(endpoint.modelName, model);
        }
        try {
          decisions.push(await this.planner.ensure(state.endpoint, await model, 'reconciler'));
        } catch (error) {
          // One endpoint's trouble must not stop the others; the next run tries again.
          this.deps.logger.error('reconcile of an endpoint failed', {
            endpointName: endpoint.name,
            error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
          });
        }
      }
    } while (pageToken);
    const started = decisions.filter((decision) => decision.outcome === 'started').length;
    return { endpoints: count, started, decisions };
  }
}
