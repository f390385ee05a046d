/**
 * Errors of the deploy steps. The state machine sees a Lambda error's `name` as the state's `Error`,
 * so these names are part of its definition: `Retry` lists the transient ones, `Catch` routes the rest
 * to the failure or rollback path, and the reason recorded for the deployment is the message.
 */

abstract class DeployError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The model cannot be served: not an MLflow model with an ONNX flavor, a file missing, a bad signature. */
export class ModelInvalidError extends DeployError {}

/** The model loaded but did not answer its input example. */
export class SmokeTestFailedError extends DeployError {}

/** The endpoint, model or version a deploy needs is gone, or cannot be deployed where it points. */
export class DeployPreconditionError extends DeployError {}

/** Someone else changed the endpoint's traffic while this deploy held it: stop, do not overwrite. */
export class TrafficConflictError extends DeployError {}

/** Worth another attempt: a dependency was briefly unavailable. Listed in every task's `Retry`. */
export class DeployTransientError extends DeployError {}

/** Error names the state machine retries (besides Lambda's own service errors). */
export const RETRYABLE_DEPLOY_ERRORS = ['DeployTransientError'] as const;
