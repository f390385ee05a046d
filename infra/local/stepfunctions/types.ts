/**
 * Public types of the local Step Functions runtime.
 *
 * Output shapes reuse the AWS SDK v3 `@aws-sdk/client-sfn` models so that what the local runtime returns
 * is, field for field, what `SFNClient` callers already expect from AWS.
 */
import type { ExecutionStatus, StateMachineType } from '@aws-sdk/client-sfn';

/** Any JSON value, as it travels between states. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A state machine the local runtime can execute. */
export interface StateMachineSpec {
  /** `arn:<partition>:states:<region>:<account>:stateMachine:<name>`. */
  arn: string;
  name: string;
  /**
   * The Amazon States Language definition as an object (JSONPath only), with every CloudFormation intrinsic
   * (`Fn::Join`, `Fn::GetAtt`, `Ref`) already resolved by the caller.
   */
  definition: unknown;
  /** Defaults to `STANDARD`. */
  type?: StateMachineType;
  /** Reported by `DescribeStateMachine` and in `$$.Execution.RoleArn`; a placeholder role when absent. */
  roleArn?: string;
}

/** How Task states reach the code and services they call. */
export interface TaskEnvironment {
  /**
   * Invoke a Lambda function by name or ARN (synchronous invoke) and return the handler's result.
   * Throw an Error whose `name` is the function's error type (`Error`, `ValidationError`, …) when the handler
   * throws; names starting with `Lambda.` or `Sandbox.` (e.g. `Lambda.ResourceNotFoundException`) are treated
   * as service-side failures and reported without the Lambda error envelope.
   */
  invokeLambda(functionNameOrArn: string, payload: unknown): Promise<unknown>;
  /**
   * Optional: call an AWS API for `arn:aws:states:::aws-sdk:<service>:<action>` and for optimised integrations
   * such as `arn:aws:states:::dynamodb:putItem` or `arn:aws:states:::events:putEvents`. `params` are the Task's
   * resolved `Parameters` (PascalCase, as in the state machine). Throw an Error whose `name` is the AWS error
   * (`ConditionalCheckFailedException`); it is reported as `<Service>.<Name>` the way Step Functions does.
   */
  callAws?(service: string, action: string, params: Record<string, unknown>): Promise<unknown>;
  /**
   * Optional: run a job-run (`.sync`) integration such as `arn:aws:states:::sagemaker:createTrainingJob.sync`
   * to its end and return what Step Functions returns for it (for SageMaker, DescribeTrainingJob's output).
   * Nothing emulates these jobs locally; tests bind a fake here. Throw to fail the task.
   */
  runJob?(service: string, action: string, params: Record<string, unknown>): Promise<unknown>;
  /**
   * Optional: stop a job `runJob` is running (`sagemaker:StopTrainingJob` for a training job), as
   * Step Functions does when the execution is stopped or times out, or the task's timeout passes.
   */
  stopJob?(service: string, action: string, params: Record<string, unknown>): Promise<void>;
}

/** Options of {@link LocalStepFunctions}. */
export interface LocalStepFunctionsOptions {
  /** Directory where execution records are persisted; in-memory only when absent. */
  dataDir?: string;
  region: string;
  accountId: string;
  env: TaskEnvironment;
  /** Receives one human-readable line per notable event (execution start/end, unsupported resources). */
  log?: (line: string) => void;
  /**
   * Multiplies every timer-driven pause of an execution: `Wait` states and `Retry` back-off intervals.
   * 1 (default) waits as AWS would, 0 skips the pauses (tests), 0.01 makes them 100 times shorter.
   * `Wait` states using `Timestamp`, `SecondsPath` or `TimestampPath` can only be skipped (0), not scaled.
   */
  waitTimeScale?: number;
}

/** The record of one execution, as kept in memory and persisted. */
export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  /** The execution input, verbatim as given to `StartExecution`. */
  input: string;
  /** JSON text of the output, when SUCCEEDED. */
  output?: string;
  error?: string;
  cause?: string;
}

/** `StartExecution` / `StartSyncExecution` request. */
export interface StartExecutionRequest {
  stateMachineArn: string;
  name?: string;
  input?: string;
}

/** `ListExecutions` request. */
export interface ListExecutionsRequest {
  stateMachineArn: string;
  statusFilter?: ExecutionStatus;
  maxResults?: number;
  nextToken?: string;
}

/** `GetExecutionHistory` request. */
export interface GetExecutionHistoryRequest {
  executionArn: string;
  maxResults?: number;
  nextToken?: string;
  reverseOrder?: boolean;
  /** When false, input and output are left out of the events (AWS default: true). */
  includeExecutionData?: boolean;
}

/** `StopExecution` request. */
export interface StopExecutionRequest {
  executionArn: string;
  error?: string;
  cause?: string;
}

/** `ListStateMachines` request. */
export interface ListStateMachinesRequest {
  maxResults?: number;
  nextToken?: string;
}

/**
 * An error the Step Functions API reports to its caller: serialised as
 * `{"__type": code, "message": message}` with `status` (400 unless stated).
 */
export class SfnApiError extends Error {
  override readonly name = 'SfnApiError';

  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}
