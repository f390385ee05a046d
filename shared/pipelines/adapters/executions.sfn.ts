import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  InvalidName,
  ListExecutionsCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { InvalidParameterError, ResourceAlreadyExistsError } from '../../platform/errors.ts';
import type { ExecutionDescription, PipelineExecutions, StateEvent } from '../api/executions.service.ts';

/** History pages hold at most 1000 events; a pipeline execution has a few dozen. */
const HISTORY_PAGE = 1000;

/** The pipelines API's Step Functions calls, on one state machine; SDK errors become MLflow's. */
export class SfnPipelineExecutions implements PipelineExecutions {
  private states: Promise<string[]> | undefined;

  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  /** Execution ARNs of a STANDARD machine: its ARN with `execution` and the name. */
  private arnOf(name: string): string {
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }

  async start(input: string, name: string | undefined) {
    try {
      const started = await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          input,
          ...(name ? { name } : {}),
        }),
      );
      return {
        executionArn: started.executionArn ?? '',
        startDate: started.startDate?.getTime() ?? Date.now(),
      };
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists) {
        throw new ResourceAlreadyExistsError(`A pipeline execution named '${name}' already exists`);
      }
      if (error instanceof InvalidName) throw new InvalidParameterError(`Invalid execution name '${name}'`);
      throw error;
    }
  }

  async list(maxResults: number, nextToken: string | undefined) {
    const page = await this.client.send(
      new ListExecutionsCommand({ stateMachineArn: this.stateMachineArn, maxResults, nextToken }),
    );
    return {
      names: (page.executions ?? []).map((execution) => execution.name ?? '').filter(Boolean),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    };
  }

  async describe(name: string): Promise<ExecutionDescription | undefined> {
    try {
      const execution = await this.client.send(
        new DescribeExecutionCommand({ executionArn: this.arnOf(name) }),
      );
      return {
        name: execution.name ?? name,
        executionArn: execution.executionArn ?? this.arnOf(name),
        status: (execution.status ?? 'RUNNING') as ExecutionDescription['status'],
        startDate: execution.startDate?.getTime() ?? 0,
        stopDate: execution.stopDate?.getTime() ?? null,
        input: execution.input ?? null,
        output: execution.output ?? null,
        error: execution.error ?? null,
        cause: execution.cause ?? null,
      };
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return undefined;
      throw error;
    }
  }

  async history(name: string): Promise<StateEvent[]> {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new GetExecutionHistoryCommand({
          executionArn: this.arnOf(name),
          maxResults: HISTORY_PAGE,
          nextToken,
        }),
      );
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return toStateEvents(events);
  }

  taskStates(): Promise<string[]> {
    this.states ??= this.client
      .send(new DescribeStateMachineCommand({ stateMachineArn: this.stateMachineArn }))
      .then((machine) => taskStatesOf(machine.definition ?? '{}'))
      .catch((error: unknown) => {
        this.states = undefined;
        throw error;
      });
    return this.states;
  }
}

/** States entered and left, and task failures attributed to the state that was running. */
export function toStateEvents(events: readonly HistoryEvent[]): StateEvent[] {
  const result: StateEvent[] = [];
  let current: string | undefined;
  for (const event of events) {
    const timestamp = event.timestamp?.getTime() ?? 0;
    if (event.stateEnteredEventDetails?.name) {
      current = event.stateEnteredEventDetails.name;
      result.push({ kind: 'entered', state: current, timestamp });
    } else if (event.stateExitedEventDetails?.name) {
      const { name, output } = event.stateExitedEventDetails;
      result.push({ kind: 'exited', state: name, timestamp, ...(output !== undefined ? { output } : {}) });
    } else if ((event.lambdaFunctionSucceededEventDetails || event.taskSucceededEventDetails) && current) {
      result.push({ kind: 'succeeded', state: current, timestamp });
    } else if (
      (event.lambdaFunctionFailedEventDetails ||
        event.taskFailedEventDetails ||
        event.lambdaFunctionTimedOutEventDetails) &&
      current
    ) {
      result.push({ kind: 'failed', state: current, timestamp });
    }
  }
  return result;
}

interface StateDefinition {
  Type?: string;
  Next?: string;
  Default?: string;
  Choices?: Array<{ Next?: string }>;
  Catch?: Array<{ Next?: string }>;
}

/**
 * The Task states of an Amazon States Language definition in the order an execution meets them: a
 * topological order of its transitions (`Next`, a Choice's branches and default, `Catch`) from
 * `StartAt`, a Choice's default branch first.
 */
export function taskStatesOf(definition: string): string[] {
  const parsed = JSON.parse(definition) as { StartAt?: string; States?: Record<string, StateDefinition> };
  const states = parsed.States ?? {};
  const visited = new Set<string>();
  const finished: string[] = [];
  const visit = (name: string | undefined) => {
    if (!name || visited.has(name) || !states[name]) return;
    visited.add(name);
    const state = states[name] as StateDefinition;
    // Reverse post-order puts the child visited last first: the catch path and the branches before the default.
    for (const handler of state.Catch ?? []) visit(handler.Next);
    for (const choice of state.Choices ?? []) visit(choice.Next);
    visit(state.Default);
    visit(state.Next);
    finished.push(name);
  };
  visit(parsed.StartAt);
  return finished.reverse().filter((name) => states[name]?.Type === 'Task');
}
