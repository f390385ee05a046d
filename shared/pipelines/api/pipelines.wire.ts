/** The pipelines API's answers (`runway/pipelines/executions...`), snake_case as Runway's other APIs. */

export type ExecutionStatus =
  | 'RUNNING'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'TIMED_OUT'
  | 'ABORTED'
  | 'PENDING_REDRIVE';

export interface PipelineExecutionSummaryWire {
  name: string;
  execution_arn: string;
  status: ExecutionStatus;
  /** Epoch ms. */
  start_time: number;
  stop_time: number | null;
  /** The registered model the execution trains (its input's `modelName`). */
  model_name: string | null;
}

/** A task state of the pipeline and how far this execution got with it. */
export interface PipelineStepWire {
  name: string;
  status: 'succeeded' | 'failed' | 'running' | 'skipped';
  start_time: number | null;
  end_time: number | null;
}

export interface PipelineExecutionWire extends PipelineExecutionSummaryWire {
  input: unknown;
  output: unknown;
  /** Step Functions' error and cause when the execution failed (the cause names the step). */
  error: string | null;
  cause: string | null;
  /** The MLflow run that tracks the execution, once `Prepare` has started it. */
  run: { run_id: string; experiment_id: string; artifact_uri: string } | null;
  experiment_id: string | null;
  registered_version: string | null;
  steps: PipelineStepWire[];
}
