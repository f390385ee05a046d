import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleInput,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  type SchedulerClient,
  UpdateScheduleCommand,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { schedulerClient } from '../../platform/aws/scheduler.ts';
import { InvalidParameterError } from '../../platform/errors.ts';
import type { Monitor } from '../model.ts';
import type { ScheduleManager } from '../ports.ts';

export interface SchedulerTarget {
  /** Runway's schedule group (created with the monitoring stack; deleting it deletes every schedule in it). */
  groupName: string;
  /** The monitor state machine. */
  stateMachineArn: string;
  /** The role EventBridge Scheduler assumes to start it (StartExecution on that machine only). */
  roleArn: string;
}

/**
 * One EventBridge Scheduler schedule per monitor, named after it, in Runway's group: it starts the
 * monitor state machine with `{"monitor", "trigger": "schedule", "scheduledTime"}`, the scheduled time
 * being Scheduler's own `<aws.scheduler.scheduled-time>` (so a retried or late delivery still reads
 * the window it was meant for). Nothing runs, and nothing is billed, between two runs.
 */
export class EventBridgeScheduleManager implements ScheduleManager {
  constructor(
    private readonly target: SchedulerTarget,
    private readonly client: SchedulerClient = schedulerClient(),
  ) {}

  async put(monitor: Pick<Monitor, 'name' | 'schedule' | 'enabled'>): Promise<void> {
    const input: CreateScheduleInput = {
      Name: monitor.name,
      GroupName: this.target.groupName,
      ScheduleExpression: monitor.schedule,
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: monitor.enabled ? 'ENABLED' : 'DISABLED',
      Description: `Runway monitor ${monitor.name}`,
      Target: {
        Arn: this.target.stateMachineArn,
        RoleArn: this.target.roleArn,
        Input: JSON.stringify({
          monitor: monitor.name,
          trigger: 'schedule',
          scheduledTime: '<aws.scheduler.scheduled-time>',
        }),
        RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
      },
    };
    try {
      try {
        await this.client.send(new CreateScheduleCommand(input));
      } catch (error) {
        if (!(error instanceof ConflictException)) throw error;
        await this.client.send(new UpdateScheduleCommand(input));
      }
    } catch (error) {
      if (error instanceof ValidationException) {
        throw new InvalidParameterError(`Invalid value for parameter 'schedule' supplied: ${error.message}`);
      }
      throw error;
    }
  }

  async delete(name: string): Promise<void> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.target.groupName }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }
}
