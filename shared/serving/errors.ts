import { type ErrorCode, RunwayError } from '../platform/errors.ts';

/**
 * The model server's errors. Their codes and statuses are those of MLflow's scoring server
 * (`mlflow/pyfunc/scoring_server`): a request it cannot read is `BAD_REQUEST`, input that does not
 * fit the model's signature is `INVALID_PARAMETER_VALUE`, both 400.
 */

/** The request is not one of MLflow's scoring formats (MLflow: `BAD_REQUEST`, 400). */
export class ScoringFormatError extends RunwayError {
  readonly errorCode: ErrorCode = 'BAD_REQUEST';
  readonly httpStatus = 400;
}

/** The input does not fit the model's signature: a column, shape or type at fault (400). */
export class InputSchemaError extends RunwayError {
  readonly errorCode: ErrorCode = 'INVALID_PARAMETER_VALUE';
  readonly httpStatus = 400;
}

/** A content type or charset the scoring server does not read (MLflow answers 415 too). */
export class UnsupportedMediaTypeError extends RunwayError {
  readonly errorCode: ErrorCode = 'BAD_REQUEST';
  readonly httpStatus = 415;
}

/**
 * The input passed the signature but the model failed to evaluate it. MLflow answers this 400
 * `BAD_REQUEST` with the same message, and so does Runway; its statistics count it as a model error
 * (not a client error), because a version whose model fails on valid input is what a canary must catch.
 */
export class ModelEvaluationError extends RunwayError {
  readonly errorCode: ErrorCode = 'BAD_REQUEST';
  readonly httpStatus = 400;
  constructor(cause: unknown) {
    super(
      'Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is compatible with the model for inference.',
      { cause },
    );
  }
}

/**
 * A deployed model that cannot be served: its files are missing or malformed, or ONNX Runtime
 * refuses it (500). The message names the model and what is wrong; it holds no secret, so it is shown.
 */
export class ModelLoadError extends RunwayError {
  readonly errorCode: ErrorCode = 'INTERNAL_ERROR';
  readonly httpStatus = 500;
  override get expose(): boolean {
    return true;
  }
}
