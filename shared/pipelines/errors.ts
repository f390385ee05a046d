/**
 * Why a pipeline step fails. Each error's `name` becomes the Step Functions `Error` of the failed
 * task (Lambda reports it as the error type), so a `Catch` or a person reading the execution can
 * tell a rejected dataset from a bad input or a broken model at a glance; the message is the `Cause`.
 */

abstract class PipelineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The execution input does not match the documented schema (every problem is listed). */
export class PipelineInputError extends PipelineError {}

/** The dataset cannot be read: missing, too large, not CSV. */
export class DatasetUnreadableError extends PipelineError {}

/** The dataset was read but has anomalies; the message is the anomaly report. */
export class DataValidationError extends PipelineError {}

/** The dataset changed between steps of one execution (its digest differs). */
export class DatasetChangedError extends PipelineError {}

/** The model under the target alias cannot be compared with the candidate. */
export class ChampionComparisonError extends PipelineError {}
