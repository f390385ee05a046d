import { SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { sfnClient } from '../../../platform/aws/sfn.ts';
import type { TaskCallbacks } from '../ports.ts';

/** Tokens whose task ended otherwise (timed out, its execution stopped): nothing left to resume. */
const GONE = new Set(['TaskDoesNotExist', 'TaskTimedOut', 'InvalidToken']);

/** Resumes waiting deploy executions through Step Functions' SendTaskSuccess. */
export class SfnTaskCallbacks implements TaskCallbacks {
  constructor(private readonly client: SFNClient = sfnClient()) {}

  async resume(taskToken: string): Promise<void> {
    try {
      await this.client.send(new SendTaskSuccessCommand({ taskToken, output: '{}' }));
    } catch (error) {
      if (!(error instanceof Error && GONE.has(error.name))) throw error;
    }
  }
}
