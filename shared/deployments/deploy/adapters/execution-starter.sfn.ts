import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { sfnClient } from '../../../platform/aws/sfn.ts';
import type { ExecutionStarter } from '../ports.ts';

/** Starts executions of the deploy state machine by name. */
export class SfnExecutionStarter implements ExecutionStarter {
  constructor(
    private readonly stateMachineArn: string,
    private readonly client: SFNClient = sfnClient(),
  ) {}

  async start(
    name: string,
    input: unknown,
  ): Promise<{ outcome: 'started' | 'duplicate'; executionArn: string }> {
    try {
      const { executionArn } = await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name,
          input: JSON.stringify(input),
        }),
      );
      // A running execution of this name with the same input is returned as if started (AWS idempotency).
      return { outcome: 'started', executionArn: executionArn ?? this.executionArn(name) };
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists)
        return { outcome: 'duplicate', executionArn: this.executionArn(name) };
      throw error;
    }
  }

  /** `arn:...:stateMachine:<machine>` -> `arn:...:execution:<machine>:<name>`, as Step Functions forms it. */
  private executionArn(name: string): string {
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }
}
