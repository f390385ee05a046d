import { InvalidParameterError, ResourceDoesNotExistError } from '../../platform/errors.ts';
import { PipelineInputSchema } from '../model.ts';
import type {
  PipelineExecutionSummaryWire,
  PipelineExecutionWire,
  PipelineStepWire,
} from './pipelines.wire.ts';

/** An execution as Step Functions describes it. */
export interface ExecutionDescription {
  name: string;
  executionArn: string;
  status: PipelineExecutionSummaryWire['status'];
  startDate: number;
  stopDate: number | null;
  input: string | null;
  output: string | null;
  error: string | null;
  cause: string | null;
}

/** What an execution's history says of one state (entered, left, failed), oldest first. */
export interface StateEvent {
  /** `succeeded` and `failed` are the state's task outcomes (a retried task may fail, then succeed). */
  kind: 'entered' | 'exited' | 'succeeded' | 'failed';
  state: string;
  timestamp: number;
  output?: string;
}

/** The Step Functions calls the pipelines API makes, on the one state machine it serves. */
export interface PipelineExecutions {
  start(input: string, name: string | undefined): Promise<{ executionArn: string; startDate: number }>;
  list(maxResults: number, nextToken: string | undefined): Promise<{ names: string[]; nextToken?: string }>;
  /** Undefined when no such execution exists. */
  describe(name: string): Promise<ExecutionDescription | undefined>;
  history(name: string): Promise<StateEvent[]>;
  /** The state machine's task states in definition order (the step graph). */
  taskStates(): Promise<string[]>;
}

/** States shown only when an execution went through them (the failure path). */
const ON_FAILURE_ONLY = new Set(['RecordFailure']);

/**
 * Starts, lists and describes executions of Runway's training pipeline for the pipelines API. The
 * input is checked against the pipeline's own schema before anything starts, so a mistake is a 400
 * naming the field here rather than a failed execution later.
 */
export class PipelineExecutionsService {
  constructor(private readonly executions: PipelineExecutions) {}

  async start(input: unknown, name: string | undefined): Promise<PipelineExecutionSummaryWire> {
    const parsed = PipelineInputSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') || 'input';
      throw new InvalidParameterError(`Invalid value for input.${field}: ${issue?.message ?? 'invalid'}`);
    }
    const started = await this.executions.start(JSON.stringify(input), name);
    return {
      name: started.executionArn.split(':').pop() ?? started.executionArn,
      execution_arn: started.executionArn,
      status: 'RUNNING',
      start_time: started.startDate,
      stop_time: null,
      model_name: parsed.data.modelName,
    };
  }

  async list(
    maxResults: number,
    pageToken: string | undefined,
  ): Promise<{ executions: PipelineExecutionSummaryWire[]; nextPageToken?: string }> {
    const page = await this.executions.list(maxResults, pageToken);
    const described = await Promise.all(page.names.map((name) => this.executions.describe(name)));
    return {
      executions: described.filter((d): d is ExecutionDescription => d !== undefined).map(summaryOf),
      ...(page.nextToken ? { nextPageToken: page.nextToken } : {}),
    };
  }

  async describe(name: string): Promise<PipelineExecutionWire> {
    const execution = await this.executions.describe(name);
    if (!execution) throw new ResourceDoesNotExistError(`No pipeline execution named '${name}'`);
    const [events, states] = await Promise.all([this.executions.history(name), this.executions.taskStates()]);
    const output = parseJson(execution.output);
    const run = runOf(events);
    return {
      ...summaryOf(execution),
      input: parseJson(execution.input),
      output,
      error: execution.error,
      cause: execution.cause,
      run,
      experiment_id: run?.experiment_id ?? null,
      registered_version: registeredVersionOf(events, output),
      steps: stepsOf(states, events),
    };
  }
}

function summaryOf(execution: ExecutionDescription): PipelineExecutionSummaryWire {
  const input = parseJson(execution.input) as { modelName?: unknown } | null;
  return {
    name: execution.name,
    execution_arn: execution.executionArn,
    status: execution.status,
    start_time: execution.startDate,
    stop_time: execution.stopDate,
    model_name: typeof input?.modelName === 'string' ? input.modelName : null,
  };
}

/** Each task state's status from the history: failed, succeeded (left), running (entered), else skipped. */
export function stepsOf(states: string[], events: StateEvent[]): PipelineStepWire[] {
  const steps = new Map<string, PipelineStepWire>(
    states.map((name) => [name, { name, status: 'skipped', start_time: null, end_time: null }]),
  );
  for (const event of events) {
    const step = steps.get(event.state);
    if (!step) continue;
    if (event.kind === 'entered') {
      step.status = 'running';
      step.start_time = event.timestamp;
    } else if (event.kind === 'succeeded') {
      step.status = 'succeeded';
    } else if (event.kind === 'failed') {
      step.status = 'failed';
      step.end_time = event.timestamp;
    } else {
      // Leaving says nothing of the outcome (a caught failure leaves too); a state without task events succeeded.
      if (step.status === 'running') step.status = 'succeeded';
      step.end_time = event.timestamp;
    }
  }
  return [...steps.values()].filter((step) => !ON_FAILURE_ONLY.has(step.name) || step.status !== 'skipped');
}

/** The run `Prepare` started: the `run` field every later state carries (`PipelineState.run`). */
function runOf(events: StateEvent[]): PipelineExecutionWire['run'] {
  for (const event of events) {
    const state = parseJson(event.output ?? null) as {
      run?: { runId?: unknown; experimentId?: unknown; artifactUri?: unknown };
    } | null;
    const run = state?.run;
    if (typeof run?.runId === 'string' && typeof run.experimentId === 'string') {
      return {
        run_id: run.runId,
        experiment_id: run.experimentId,
        artifact_uri: String(run.artifactUri ?? ''),
      };
    }
  }
  return null;
}

function registeredVersionOf(events: StateEvent[], output: unknown): string | null {
  const fromOutput = (output as { registration?: { version?: unknown } } | null)?.registration?.version;
  if (typeof fromOutput === 'string') return fromOutput;
  for (const event of [...events].reverse()) {
    const version = (parseJson(event.output ?? null) as { registration?: { version?: unknown } } | null)
      ?.registration?.version;
    if (typeof version === 'string') return version;
  }
  return null;
}

function parseJson(text: string | null): unknown {
  if (text === null || text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
