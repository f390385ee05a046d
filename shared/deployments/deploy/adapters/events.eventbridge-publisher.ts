import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { eventBridgeClient } from '../../../platform/aws/eventbridge.ts';
import { deploymentEventModule } from '../../events/index.ts';
import { DeployTransientError } from '../errors.ts';
import type { DeploymentEvent, DeploymentEventPublisher } from '../ports.ts';

/**
 * Publishes deployments events to the Runway bus. Unlike the registry's publisher it throws when the
 * bus refuses the entry: it runs in a state machine step, which Step Functions retries, and the event
 * carries an idempotency key, so a retry that publishes twice is harmless.
 */
export class EventBridgeDeploymentPublisher implements DeploymentEventPublisher {
  constructor(
    private readonly busName: string,
    private readonly client: EventBridgeClient = eventBridgeClient(),
  ) {}

  async publish(event: DeploymentEvent): Promise<void> {
    const module = deploymentEventModule(event.name);
    if (!module) throw new Error(`Unknown deployments event ${event.name}`);
    const detail = module.schema.parse(event.detail);
    const result = await this.client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.busName,
            Source: module.source,
            DetailType: module.name,
            Detail: JSON.stringify(detail),
            Time: new Date(detail.occurredAt),
          },
        ],
      }),
    );
    const failed = result.Entries?.[0];
    if ((result.FailedEntryCount ?? 0) > 0 || failed?.ErrorCode) {
      throw new DeployTransientError(
        `The event bus refused ${event.name}: ${failed?.ErrorCode ?? 'error'} ${failed?.ErrorMessage ?? ''}`.trim(),
      );
    }
  }
}
