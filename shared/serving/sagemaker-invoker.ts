import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { sageMakerEndpointName } from '../deployments/deploy/sagemaker-plan.ts';
import type { ApiResponse } from '../platform/http/error-response.ts';
import { json } from '../platform/http/error-response.ts';
import type { Logger } from '../platform/logger.ts';
import type { Outcome } from './variant-stats.ts';

/** The longest message of a model container Runway passes on. */
export const MAX_CONTAINER_MESSAGE = 1000;

/** SageMaker Runtime error names that mean "slow down" or "not ready yet": the caller may retry. */
const RETRYABLE = new Set([
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'ServiceUnavailable',
  'ModelNotReadyException',
]);

/** SageMaker's answer to an endpoint it does not have (yet): `Endpoint <name> of account <id> not found.` */
const NOT_FOUND = /^Endpoint \S+ of account \S+ not found/;

export interface SageMakerAnswer {
  response: ApiResponse;
  outcome: Outcome;
}

/**
 * Forwards an invocation to the SageMaker endpoint Runway deployed for a Runway endpoint
 * (`sageMakerEndpointName`): the body and content type as received, SageMaker's answer as it is.
 * SageMaker shifts traffic between its own variants; Runway only forwards. Errors become MLflow
 * error bodies; what SageMaker says about the account (ids, ARNs) is logged, never answered.
 */
export class SageMakerInvoker {
  constructor(private readonly deps: { client: SageMakerRuntimeClient; logger: Logger }) {}

  async invoke(endpointName: string, body: string | undefined, contentType: string | undefined) {
    const target = sageMakerEndpointName(endpointName);
    try {
      const output = await this.deps.client.send(
        new InvokeEndpointCommand({
          EndpointName: target,
          Body: Buffer.from(body ?? '', 'utf8'),
          ContentType: contentType,
          Accept: 'application/json',
        }),
      );
      const answer: SageMakerAnswer = {
        outcome: 'ok',
        response: {
          statusCode: 200,
          headers: { 'content-type': output.ContentType ?? 'application/json' },
          body: Buffer.from(output.Body ?? new Uint8Array()).toString('utf8'),
        },
      };
      return answer;
    } catch (error) {
      return this.answerError(error, endpointName, target);
    }
  }

  private answerError(error: unknown, endpointName: string, target: string): SageMakerAnswer {
    const { logger } = this.deps;
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    const fields = { endpoint: endpointName, sageMakerEndpoint: target, errorName: name };
    if (name === 'ModelError') {
      const { OriginalStatusCode: status, OriginalMessage: original } = error as {
        OriginalStatusCode?: number;
        OriginalMessage?: string;
      };
      const said = containerMessage(original);
      if (status !== undefined && status >= 400 && status < 500) {
        logger.info('invocation refused', { ...fields, containerStatus: status });
        return {
          outcome: 'clientError',
          response: json(400, {
            error_code: 'BAD_REQUEST',
            message: `The model refused the input (status ${status}): ${said}`,
          }),
        };
      }
      logger.warn('invocation failed', { ...fields, containerStatus: status, detail: said });
      return {
        outcome: 'modelError',
        response: json(500, {
          error_code: 'INTERNAL_ERROR',
          message: `The model failed (status ${status ?? 'unknown'}): ${said}`,
        }),
      };
    }
    if (name === 'ValidationError' && NOT_FOUND.test(message)) {
      logger.warn('invocation refused', { ...fields, detail: message });
      return unavailable(
        `Endpoint '${endpointName}' is not deployed on SageMaker yet; retry once its first deployment has finished`,
        5,
      );
    }
    if (name === 'ValidationError') {
      logger.info('invocation refused', { ...fields, detail: message });
      return {
        outcome: 'clientError',
        response: json(400, {
          error_code: 'BAD_REQUEST',
          message: `SageMaker refused the request: ${redact(message).slice(0, MAX_CONTAINER_MESSAGE)}`,
        }),
      };
    }
    const throttled =
      RETRYABLE.has(name) ||
      (error as { $retryable?: { throttling?: boolean } })?.$retryable?.throttling === true;
    if (throttled) {
      logger.warn('invocation throttled', { ...fields, detail: message });
      return unavailable(
        `SageMaker endpoint for '${endpointName}' is busy or not ready (${name}); retry the request shortly`,
        1,
      );
    }
    // Access denied, an internal failure, the network: the log has the details, the caller the kind.
    logger.error('invocation failed', { ...fields, error });
    return {
      outcome: 'modelError',
      response: json(502, {
        error_code: 'INTERNAL_ERROR',
        message: `SageMaker could not invoke the endpoint for '${endpointName}' (${name})`,
      }),
    };
  }
}

/** 503 with `Retry-After`: counted against the version, as the Lambda target counts its 5xx. */
function unavailable(message: string, retryAfterSeconds: number): SageMakerAnswer {
  return {
    outcome: 'modelError',
    response: json(
      503,
      { error_code: 'TEMPORARILY_UNAVAILABLE', message },
      { 'retry-after': String(retryAfterSeconds) },
    ),
  };
}

/** A container's message, as much as a caller needs of it. */
function containerMessage(message: string | undefined): string {
  if (!message) return '(no message)';
  const text = message.trim();
  return text.length <= MAX_CONTAINER_MESSAGE
    ? text
    : `${text.slice(0, MAX_CONTAINER_MESSAGE)}... (truncated)`;
}

/** SageMaker's messages name the account and ARNs: the caller does not need them. */
function redact(message: string): string {
  return message.replace(/arn:[^\s"']+/g, '<arn>').replace(/\b\d{12}\b/g, '<account>');
}
