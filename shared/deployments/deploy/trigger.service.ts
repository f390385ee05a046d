import * as z from 'zod';
import type { Logger } from '../../platform/logger.ts';
import { ModelVersionAliasSet, ModelVersionStageTransitioned } from '../../registry/events/index.ts';
import type { ModelState } from '../../registry/ports.ts';
import type { Endpoint } from '../model.ts';
import { desiredVersion, eventConcerns } from './desired-version.ts';
import { deployExecutionName } from './execution-name.ts';
import type { DeployRequest } from './model.ts';
import type { EndpointDirectory, ExecutionStarter, RegistryReader } from './ports.ts';

/** What one endpoint's check came to. */
export interface DeployDecision {
  endpointName: string;
  outcome: 'started' | 'duplicate' | 'in-sync' | 'nothing-desired' | 'busy';
  version?: string;
  executionName?: string;
}

export interface DeployPlannerDeps {
  registry: RegistryReader;
  executions: ExecutionStarter;
  logger: Logger;
}

/**
 * Starts the deploy an endpoint needs, if any: what the registry names for the alias or stage the
 * endpoint follows, unless the endpoint serves it already. The execution is named after the endpoint
 * and the registry change (`deployExecutionName`), so the event, its duplicates and the reconciler
 * all start the same one at most once.
 */
export class DeployPlanner {
  constructor(private readonly deps: DeployPlannerDeps) {}

  async ensure(
    endpoint: Endpoint,
    model: ModelState | undefined,
    trigger: DeployRequest['trigger'],
  ): Promise<DeployDecision> {
    const desired = model && desiredVersion(model, endpoint.follows);
    if (!desired) return { endpointName: endpoint.name, outcome: 'nothing-desired' };
    const { primary, canary } = endpoint.traffic;
    if (primary?.version === desired.version && canary === null) {
      return { endpointName: endpoint.name, outcome: 'in-sync', version: desired.version };
    }
    const executionName = deployExecutionName(endpoint.name, desired.version, desired.changeKey);
    const request: DeployRequest = {
      endpointName: endpoint.name,
      modelName: endpoint.modelName,
      version: desired.version,
      changeKey: desired.changeKey,
      trigger,
    };
    const { outcome } = await this.deps.executions.start(executionName, request);
    this.deps.logger.info(outcome === 'started' ? 'deploy started' : 'deploy already started', {
      endpointName: endpoint.name,
      version: desired.version,
      executionName,
      trigger,
    });
    return { endpointName: endpoint.name, outcome, version: desired.version, executionName };
  }
}

const promotionEvent = z.discriminatedUnion('detailType', [
  z.object({ detailType: z.literal(ModelVersionAliasSet.name), detail: ModelVersionAliasSet.schema }),
  z.object({
    detailType: z.literal(ModelVersionStageTransitioned.name),
    detail: ModelVersionStageTransitioned.schema,
  }),
]);

export interface DeployTriggerDeps extends DeployPlannerDeps {
  endpoints: EndpointDirectory;
}

/**
 * The target of the rule that matches promotion events (`alias-set`, `stage-transitioned`): finds the
 * endpoints that follow the model's alias or stage and starts their deploys. The event only says that
 * something moved; what to deploy is read from the registry, so a late or reordered event deploys the
 * current version, never an old one.
 */
export class DeployTrigger {
  private readonly planner: DeployPlanner;

  constructor(private readonly deps: DeployTriggerDeps) {
    this.planner = new DeployPlanner(deps);
  }

  async handle(detailType: string, rawDetail: unknown): Promise<DeployDecision[]> {
    const parsed = promotionEvent.safeParse({ detailType, detail: rawDetail });
    if (!parsed.success) {
      // Not retryable: the rule matched something this version does not understand. Say so and move on.
      this.deps.logger.error('promotion event ignored: it does not match its schema', {
        detailType,
        issues: parsed.error.issues.slice(0, 5),
      });
      return [];
    }
    const { detail } = parsed.data;
    const followers = (await this.deps.endpoints.listByModel(detail.modelName)).filter((endpoint) =>
      eventConcerns(endpoint.follows, detail),
    );
    if (followers.length === 0) return [];
    const model = await this.deps.registry.get(detail.modelName);
    // The event was published after the change was stored, so the registry has it (or something newer).
    return Promise.all(followers.map((endpoint) => this.planner.ensure(endpoint, model, 'event')));
  }
}
