import { EventBridgeClient } from '@aws-sdk/client-eventbridge';

let eventBridge: EventBridgeClient | undefined;

/** The EventBridge client, once per container. */
export function eventBridgeClient(): EventBridgeClient {
  eventBridge ??= new EventBridgeClient({ maxAttempts: 5 });
  return eventBridge;
}
