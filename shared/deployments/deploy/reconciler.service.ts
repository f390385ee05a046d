import type { Logger } from '../../platform/logger.ts';
import type { ModelState } from '../../registry/ports.ts';
import type { EndpointTeardown } from '../ports.ts';
import type { DeploymentLedger, EndpointDirectory, ExecutionStarter, RegistryReader } from './ports.ts';
import type { SageMakerJanitor } from './sagemaker-janitor.ts';
import { type DeployDecision, DeployPlanner } from './trigger.service.ts';

export interface ReconcilerDeps {
  endpoints: EndpointDirectory;
  ledger: Pick<DeploymentLedger, 'get'>;
  registry: RegistryReader;
  executions: ExecutionStarter;
  /** Finishes deletes whose SageMaker resources were still going. */
  teardown: EndpointTeardown;
  /** Removes SageMaker resources no endpoint owns. */
  janitor: Pick<SageMakerJanitor, 'sweepOrphans'>;
  logger: Logger;
}

export interface ReconcileReport {
  endpoints: number;
  started: number;
  decisions: DeployDecision[];
  /** Deleting endpoints whose teardown finished in this run. */
  deleted: string[];
  /** Orphan SageMaker resources removed (`kind/name`). */
  orphans: string[];
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
    const seen: string[] = [];
    do {
      const page = await this.deps.endpoints.list(pageToken);
      pageToken = page.nextPageToken;
      count += page.endpoints.length;
      for (const endpoint of page.endpoints) {
        seen.push(endpoint.name);
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
            error: describe(error),
          });
        }
      }
    } while (pageToken);
    const started = decisions.filter((decision) => decision.outcome === 'started').length;
    const { deleted, names } = await this.finishDeletes(seen);
    let orphans: string[] = [];
    try {
      orphans = await this.deps.janitor.sweepOrphans(names);
    } catch (error) {
      this.deps.logger.error('the sweep of orphan SageMaker resources failed', { error: describe(error) });
    }
    return { endpoints: count, started, decisions, deleted, orphans };
  }

  /**
   * One teardown pass of every deleting endpoint; the names of all endpoints that still have an item
   * (listed and deleting), whose SageMaker resources are not orphans.
   */
  private async finishDeletes(listed: string[]): Promise<{ deleted: string[]; names: string[] }> {
    const deleted: string[] = [];
    const names = [...listed];
    let pageToken: string | undefined;
    do {
      const page = await this.deps.endpoints.listDeleting(pageToken);
      pageToken = page.nextPageToken;
      for (const endpoint of page.endpoints) {
        try {
          if ((await this.deps.teardown.continue(endpoint)) === 'deleted') {
            deleted.push(endpoint.name);
            continue;
          }
        } catch (error) {
          this.deps.logger.error('finishing the delete of an endpoint failed', {
            endpointName: endpoint.name,
            error: describe(error),
          });
        }
        names.push(endpoint.name);
      }
    } while (pageToken);
    return { deleted, names };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
