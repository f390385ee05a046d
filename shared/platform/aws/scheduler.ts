import { SchedulerClient } from '@aws-sdk/client-scheduler';

let scheduler: SchedulerClient | undefined;

/** The EventBridge Scheduler client, once per container. */
export function schedulerClient(): SchedulerClient {
  scheduler ??= new SchedulerClient({ maxAttempts: 5 });
  return scheduler;
}
