import type { DeployStarter, DeployRequest as ManualDeployRequest } from '../ports.ts';
import { deployExecutionName } from './execution-name.ts';
import type { DeployRequest } from './model.ts';
import type { Clock, ExecutionStarter } from './ports.ts';

/**
 * The endpoints API's manual deploy (`POST .../deploy`): starts the deploy state machine for a
 * version a person names. Unlike a registry change, a request has no identity of its own, so every
 * request is a new deploy (to redeploy a version after a rollback, say); it still waits for a deploy
 * that holds the endpoint, and a manual deploy is not superseded by the registry.
 */
export class ManualDeployStarter implements DeployStarter {
  constructor(
    private readonly executions: ExecutionStarter,
    private readonly clock: Clock,
  ) {}

  async start(
    request: ManualDeployRequest,
  ): Promise<{ deploymentId: string; executionArn: string | null; version: string }> {
    const { endpoint, version } = request;
    if (version === undefined)
      throw new Error('A manual deploy names its version (the endpoints service resolves it)');
    const changeKey = `manual@${this.clock.now()}`;
    const name = deployExecutionName(endpoint.name, version, changeKey);
    const input: DeployRequest = {
      endpointName: endpoint.name,
      modelName: endpoint.modelName,
      version,
      changeKey,
      trigger: request.trigger,
    };
    const { executionArn } = await this.executions.start(name, input);
    // The deployment is recorded under the execution's name when its Resolve step runs.
    return { deploymentId: name, executionArn, version };
  }
}
