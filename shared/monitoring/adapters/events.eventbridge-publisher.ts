import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { eventBridgeClient } from '../../platform/aws/eventbridge.ts';
import { MonitorTransientError } from '../errors.ts';
import { type MonitoringEvent, monitoringEventModule } from '../events/index.ts';
import type { MonitoringEventPublisher } from '../ports.ts';

/**
 * Publishes monitoring events to the Runway bus, each detail checked against its schema first. Like
 * the deployments' publisher it throws when the bus refuses an entry: it runs in a state machine step,
 * which retries, and each event carries an idempotency key, so a retry that publishes twice is harmless.
 */
export class EventBridgeMonitoringPublisher implements MonitoringEventPublisher {
  constructor(
    private readonly busName: string,
    private readonly client: EventBridgeClient = eventBridgeClient(),
  ) {}

  async publish(events: readonly MonitoringEvent[]): Promise<void> {
    const entries = events.map((event) => {
      const module = monitoringEventModule(event.name);
      if (!module) throw new Error(`Unknown monitoring event ${event.name}`);
      const detail = module.schema.parse(event.detail);
      return {
        EventBusName: this.busName,
        Source: module.source,
        DetailType: module.name,
        Detail: JSON.stringify(detail),
        Time: new Date(detail.occurredAt),
      };
    });
    if (entries.length === 0) return;
    const result = await this.client.send(new PutEventsCommand({ Entries: entries }));
    const failed = result.Entries?.find((entry) => entry.ErrorCode);
    if ((result.FailedEntryCount ?? 0) > 0 || failed) {
      throw new MonitorTransientError(
        `The event bus refused a monitoring event: ${failed?.ErrorCode ?? 'error'} ${failed?.ErrorMessage ?? ''}`.trim(),
      );
    }
  }
}
