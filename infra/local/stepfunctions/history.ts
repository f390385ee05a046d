/**
 * Execution history in the shape of `GetExecutionHistory`.
 *
 * Two sources feed one {@link HistoryRecorder}: the runner's event log (states entered and exited, Map
 * iterations), translated by {@link translateRunnerEvent}, and the Task handlers, which record the
 * Task/Lambda events the runner knows nothing about.
 */
import type { HistoryEvent, HistoryEventType } from '@aws-sdk/client-sfn';
import type { StateMachine } from 'aws-local-stepfunctions';

/** The event details of a history event: everything but the envelope. */
export type HistoryEventDetails = Omit<HistoryEvent, 'timestamp' | 'type' | 'id' | 'previousEventId'>;

/** One event of the runner's event log (the library does not export the type). */
export type RunnerEvent =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/** How a Task state appears in Task* history events. */
export interface TaskEventResource {
  /** `lambda`, `states`, `aws-sdk:dynamodb`, … */
  resourceType: string;
  /** `invoke`, `startExecution.sync:2`, `putItem`, … */
  resource: string;
  /** True for a Lambda ARN in `Resource`: AWS reports those as LambdaFunction* events. */
  directLambda: boolean;
}

/** JSON text of a value as history events carry it. */
export const jsonText = (value: unknown): string => JSON.stringify(value ?? null);

/** Append-only, numbered event list of one execution. */
export class HistoryRecorder {
  readonly #events: HistoryEvent[];
  #sealed = false;

  constructor(events: HistoryEvent[] = []) {
    this.#events = events;
  }

  /** Events recorded so far, oldest first. */
  get events(): readonly HistoryEvent[] {
    return this.#events;
  }

  /**
   * Record an event. Ignored once the execution has ended: a Task handler that outlives an aborted or
   * timed-out execution must not write after the terminal event.
   */
  append(type: HistoryEventType, details: HistoryEventDetails = {}): void {
    if (this.#sealed) return;
    const id = this.#events.length + 1;
    // AWS links each event to its causal predecessor; the previous event is a faithful enough approximation
    // for a linear log and is what consumers walk.
    this.#events.push({ timestamp: new Date(), type, id, previousEventId: id - 1, ...details });
  }

  /** Record the terminal event and refuse any further one. */
  seal(type: HistoryEventType, details: HistoryEventDetails = {}): void {
    this.append(type, details);
    this.#sealed = true;
  }
}

const stateEntered = (type: string): HistoryEventType => `${type}StateEntered` as HistoryEventType;
const stateExited = (type: string): HistoryEventType => `${type}StateExited` as HistoryEventType;

/** Per-execution bookkeeping the translation needs. */
export interface TranslationState {
  /** Map/Parallel states (by name and Map index) that failed and were caught: their exit is no success. */
  readonly failedStates: Set<string>;
  /** The Task resource of a Task state, by state name. */
  readonly taskResource: (stateName: string) => TaskEventResource | undefined;
}

const stateKey = (name: string, index: number | undefined): string => `${name}#${index ?? ''}`;

function onStateEntered(recorder: HistoryRecorder, event: RunnerEvent & { type: 'StateEntered' }): void {
  const { name, type, input } = event.state;
  recorder.append(stateEntered(type), {
    stateEnteredEventDetails: { name, input: jsonText(input), inputDetails: { truncated: false } },
  });
  if (type === 'Map') recorder.append('MapStateStarted', { mapStateStartedEventDetails: {} });
  if (type === 'Parallel') recorder.append('ParallelStateStarted');
}

function onStateExited(
  recorder: HistoryRecorder,
  event: RunnerEvent & { type: 'StateExited' },
  state: TranslationState,
): void {
  const { name, type, output } = event.state;
  const failed = state.failedStates.delete(stateKey(name, event.index));
  if (type === 'Map' && !failed) recorder.append('MapStateSucceeded');
  if (type === 'Parallel' && !failed) recorder.append('ParallelStateSucceeded');
  recorder.append(stateExited(type), {
    stateExitedEventDetails: { name, output: jsonText(output), outputDetails: { truncated: false } },
  });
}

/**
 * A failed state: Task failures are recorded by the Task handler itself, except timeouts, which the runner
 * decides; Fail states and other runtime errors surface as `ExecutionFailed`.
 */
function onStateFailed(
  recorder: HistoryRecorder,
  event: RunnerEvent & { type: 'StateFailed' },
  state: TranslationState,
): void {
  const { name, type } = event.state;
  const error = event.Error;
  const cause = typeof event.Cause === 'string' ? event.Cause : jsonText(event.Cause);
  if (type === 'Map' || type === 'Parallel') {
    state.failedStates.add(stateKey(name, event.index));
    recorder.append(type === 'Map' ? 'MapStateFailed' : 'ParallelStateFailed');
    return;
  }
  const target = type === 'Task' && error === 'States.Timeout' ? state.taskResource(name) : undefined;
  if (target?.directLambda) {
    recorder.append('LambdaFunctionTimedOut', { lambdaFunctionTimedOutEventDetails: { error, cause } });
  } else if (target) {
    const { resourceType, resource } = target;
    recorder.append('TaskTimedOut', { taskTimedOutEventDetails: { resourceType, resource, error, cause } });
  }
}

function onMapIteration(
  recorder: HistoryRecorder,
  event: RunnerEvent & { type: 'MapIterationStarted' | 'MapIterationSucceeded' | 'MapIterationFailed' },
): void {
  const details = { name: event.parentState.name, index: event.index };
  if (event.type === 'MapIterationStarted') {
    recorder.append('MapIterationStarted', { mapIterationStartedEventDetails: details });
  } else if (event.type === 'MapIterationSucceeded') {
    recorder.append('MapIterationSucceeded', { mapIterationSucceededEventDetails: details });
  } else {
    recorder.append('MapIterationFailed', { mapIterationFailedEventDetails: details });
  }
}

/**
 * Translate one runner event into AWS history events. Execution-level events are not translated: the
 * runtime records those itself, from the execution's outcome. Retry/catch and Parallel branch events have no
 * AWS counterpart and are dropped.
 */
export function translateRunnerEvent(
  recorder: HistoryRecorder,
  event: RunnerEvent,
  state: TranslationState,
): void {
  switch (event.type) {
    case 'StateEntered':
      onStateEntered(recorder, event);
      break;
    case 'StateExited':
      onStateExited(recorder, event, state);
      break;
    case 'StateFailed':
      onStateFailed(recorder, event, state);
      break;
    case 'MapIterationStarted':
    case 'MapIterationSucceeded':
    case 'MapIterationFailed':
      onMapIteration(recorder, event);
      break;
    default:
      break;
  }
}
