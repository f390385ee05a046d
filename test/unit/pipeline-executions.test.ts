import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { taskStatesOf, toStateEvents } from '../../shared/pipelines/adapters/executions.sfn.ts';
import {
  type ExecutionDescription,
  type PipelineExecutions,
  PipelineExecutionsService,
  type StateEvent,
  stepsOf,
} from '../../shared/pipelines/api/executions.service.ts';

/** The pipelines API's logic: the step graph from a definition and a history, input checks, describe. */

const DEFINITION = JSON.stringify({
  StartAt: 'Prepare',
  States: {
    Finish: { Type: 'Task', End: true },
    Gate: { Type: 'Task', Next: 'Finish', Catch: [{ Next: 'RecordFailure' }] },
    RecordFailure: { Type: 'Task', Next: 'Failed' },
    Failed: { Type: 'Fail' },
    'Which trainer?': { Type: 'Choice', Choices: [{ Next: 'TrainInSageMaker' }], Default: 'Train' },
    TrainInSageMaker: { Type: 'Task', Next: 'ImportModel' },
    ImportModel: { Type: 'Task', Next: 'Gate' },
    Train: { Type: 'Task', Next: 'Gate' },
    Prepare: { Type: 'Task', Next: 'Which trainer?', Catch: [{ Next: 'RecordFailure' }] },
  },
});

describe('step graph', () => {
  it('lists task states in the order an execution meets them, the default branch first', () => {
    expect(taskStatesOf(DEFINITION)).toEqual([
      'Prepare',
      'Train',
      'TrainInSageMaker',
      'ImportModel',
      'Gate',
      'Finish',
      'RecordFailure',
    ]);
  });

  it('marks steps from the history: left is succeeded, a failure sticks, never entered is skipped, the failure path only when taken', () => {
    const states = taskStatesOf(DEFINITION);
    const events: StateEvent[] = [
      { kind: 'entered', state: 'Prepare', timestamp: 1 },
      { kind: 'exited', state: 'Prepare', timestamp: 2 },
      { kind: 'entered', state: 'Train', timestamp: 3 },
      { kind: 'failed', state: 'Train', timestamp: 4 },
      { kind: 'entered', state: 'RecordFailure', timestamp: 5 },
    ];
    const steps = stepsOf(states, events);
    expect(steps.map((s) => [s.name, s.status])).toEqual([
      ['Prepare', 'succeeded'],
      ['Train', 'failed'],
      ['TrainInSageMaker', 'skipped'],
      ['ImportModel', 'skipped'],
      ['Gate', 'skipped'],
      ['Finish', 'skipped'],
      ['RecordFailure', 'running'],
    ]);
    expect(steps[0]).toMatchObject({ start_time: 1, end_time: 2 });
    expect(stepsOf(states, events.slice(0, 2)).map((s) => s.name)).not.toContain('RecordFailure');
  });

  it('keeps a caught failure failed though the state is left, and a retried task that then succeeds succeeded', () => {
    const caught = stepsOf(
      ['Train'],
      [
        { kind: 'entered', state: 'Train', timestamp: 1 },
        { kind: 'failed', state: 'Train', timestamp: 2 },
        { kind: 'exited', state: 'Train', timestamp: 3 },
      ],
    );
    expect(caught).toEqual([{ name: 'Train', status: 'failed', start_time: 1, end_time: 3 }]);
    const retried = stepsOf(
      ['Train'],
      [
        { kind: 'entered', state: 'Train', timestamp: 1 },
        { kind: 'failed', state: 'Train', timestamp: 2 },
        { kind: 'succeeded', state: 'Train', timestamp: 4 },
        { kind: 'exited', state: 'Train', timestamp: 5 },
      ],
    );
    expect(retried[0]?.status).toBe('succeeded');
  });

  it('reads state events from a Step Functions history, failures on the running state', () => {
    const at = (ms: number) => new Date(ms);
    const history = [
      { timestamp: at(1), stateEnteredEventDetails: { name: 'Prepare' } },
      { timestamp: at(2), lambdaFunctionFailedEventDetails: { error: 'X' } },
      { timestamp: at(2), lambdaFunctionSucceededEventDetails: {} },
      { timestamp: at(3), stateExitedEventDetails: { name: 'Prepare', output: '{"run":{}}' } },
    ] as HistoryEvent[];
    expect(toStateEvents(history)).toEqual([
      { kind: 'entered', state: 'Prepare', timestamp: 1 },
      { kind: 'failed', state: 'Prepare', timestamp: 2 },
      { kind: 'succeeded', state: 'Prepare', timestamp: 2 },
      { kind: 'exited', state: 'Prepare', timestamp: 3, output: '{"run":{}}' },
    ]);
  });
});

class FakeExecutions implements PipelineExecutions {
  started: Array<{ input: string; name: string | undefined }> = [];
  constructor(
    private readonly executions: ExecutionDescription[] = [],
    private readonly events: StateEvent[] = [],
  ) {}
  async start(input: string, name: string | undefined) {
    this.started.push({ input, name });
    return {
      executionArn: `arn:aws:states:eu-west-1:1:execution:runway-training:${name ?? 'generated'}`,
      startDate: 5,
    };
  }
  async list() {
    return { names: this.executions.map((e) => e.name), nextToken: 'next' };
  }
  async describe(name: string) {
    return this.executions.find((e) => e.name === name);
  }
  async history() {
    return this.events;
  }
  async taskStates() {
    return ['Prepare', 'Register'];
  }
}

const INPUT = {
  datasetUri: 'mlflow-artifacts:/datasets/iris.csv',
  targetColumn: 'species',
  modelType: 'logistic_regression',
  positiveClass: 'virginica',
  modelName: 'iris',
  threshold: 0.9,
};

describe('PipelineExecutionsService', () => {
  it("checks the input against the pipeline's schema before starting anything; the error names the field", async () => {
    const fake = new FakeExecutions();
    const service = new PipelineExecutionsService(fake);
    await expect(service.start({ ...INPUT, modelType: 'forest' }, undefined)).rejects.toMatchObject({
      errorCode: 'INVALID_PARAMETER_VALUE',
      message: expect.stringMatching(/^Invalid value for input\.modelType: /),
    });
    expect(fake.started).toEqual([]);
    const started = await service.start(INPUT, 'run-1');
    expect(started).toMatchObject({ name: 'run-1', status: 'RUNNING', model_name: 'iris', stop_time: null });
    expect(JSON.parse(fake.started[0]?.input ?? '')).toEqual(INPUT);
  });

  it('describes an execution: its model, run, registered version and steps; an unknown one is 404', async () => {
    const execution: ExecutionDescription = {
      name: 'e1',
      executionArn: 'arn:e1',
      status: 'SUCCEEDED',
      startDate: 1,
      stopDate: 9,
      input: JSON.stringify(INPUT),
      output: JSON.stringify({ registration: { version: '4' } }),
      error: null,
      cause: null,
    };
    const events: StateEvent[] = [
      { kind: 'entered', state: 'Prepare', timestamp: 1 },
      {
        kind: 'exited',
        state: 'Prepare',
        timestamp: 2,
        output: JSON.stringify({
          run: { runId: 'r1', experimentId: '7', artifactUri: 'mlflow-artifacts:/7/r1/artifacts' },
        }),
      },
    ];
    const service = new PipelineExecutionsService(new FakeExecutions([execution], events));
    expect(await service.describe('e1')).toMatchObject({
      model_name: 'iris',
      run: { run_id: 'r1', experiment_id: '7' },
      experiment_id: '7',
      registered_version: '4',
      steps: [
        { name: 'Prepare', status: 'succeeded' },
        { name: 'Register', status: 'skipped' },
      ],
    });
    await expect(service.describe('nope')).rejects.toMatchObject({ errorCode: 'RESOURCE_DOES_NOT_EXIST' });
    expect(await service.list(10, undefined)).toMatchObject({
      executions: [{ name: 'e1' }],
      nextPageToken: 'next',
    });
  });
});
