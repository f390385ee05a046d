import type { Principal } from '../access/model.ts';
import type { AuthorizerContext } from '../access/principal.ts';
import type { ServedVersion } from '../deployments/model.ts';
import {
  NotImplementedError,
  ResourceDoesNotExistError,
  RunwayError,
  TemporarilyUnavailableError,
} from '../platform/errors.ts';
import type { ApiResponse } from '../platform/http/error-response.ts';
import { errorResponse } from '../platform/http/error-response.ts';
import type { Logger } from '../platform/logger.ts';
import type { CaptureBuffer } from './capture.ts';
import type { EndpointRoutes } from './endpoint-routes.ts';
import { ModelEvaluationError, ModelLoadError } from './errors.ts';
import { INFERENCE_ID_HEADER, newInferenceId } from './inference-id.ts';
import type { InvocationAccess } from './invocation-access.ts';
import type { ModelCache } from './model-cache.ts';
import type { SageMakerInvoker } from './sagemaker-invoker.ts';
import { parseScoringRequest, type ScoringRequest } from './scoring-request.ts';
import type { Outcome, VariantStatsRecorder } from './variant-stats.ts';

/** Response headers naming what served an invocation. */
export const VERSION_HEADER = 'x-runway-model-version';
export const VARIANT_HEADER = 'x-runway-variant';

export interface Invocation {
  endpointName: string;
  body: string | undefined;
  contentType: string | undefined;
  requestId: string;
  /** Who is calling, as the handler authenticated them. */
  caller: Principal;
}

export interface ModelServerDeps {
  endpoints: EndpointRoutes;
  /** Token callers need READ on the endpoint's model. */
  access: InvocationAccess;
  models: ModelCache;
  stats: VariantStatsRecorder;
  capture: CaptureBuffer;
  logger: Logger;
  /**
   * Forwards invocations of SageMaker-target endpoints; absent where there is no SageMaker (the
   * local runtime, which refuses such endpoints at creation).
   */
  sageMaker?: SageMakerInvoker;
  /** @default Math.random */
  random?: () => number;
  /** @default newInferenceId */
  inferenceId?: () => string;
}

/**
 * One function serving many endpoints. An invocation finds its endpoint's traffic (cached for a
 * second), picks the canary with probability `canaryWeight`% and the primary otherwise, loads the
 * version's model once per container, answers in MLflow's scoring format and counts the outcome for
 * that version. Errors after a version was picked are answered here (not thrown), so that they carry
 * the version headers and count in its statistics.
 */
export class ModelServer {
  constructor(private readonly deps: ModelServerDeps) {}

  /** The caller of an invocation, or 401 UNAUTHENTICATED when the request carries no identity. */
  principalOf(requestContext: AuthorizerContext | undefined): Principal {
    return this.deps.access.principalOf(requestContext);
  }

  async invoke(invocation: Invocation): Promise<ApiResponse> {
    const started = performance.now();
    const { endpointName } = invocation;
    const route = await this.deps.endpoints.get(endpointName);
    if (!route) throw new ResourceDoesNotExistError(`Endpoint '${endpointName}' does not exist`);
    await this.deps.access.authorize(invocation.caller, endpointName, route.modelName);
    const inferenceId = (this.deps.inferenceId ?? newInferenceId)();
    const capture = { inferenceId, sampleRate: route.captureSampleRate };
    if (route.target === 'sagemaker')
      return this.invokeSageMaker(invocation, route.traffic, started, capture);
    const { primary, canary, canaryWeight } = route.traffic;
    if (!primary) {
      throw new TemporarilyUnavailableError(
        `Endpoint '${endpointName}' has no model version deployed yet (status ${route.status}); retry once its first deployment has finished`,
      );
    }
    const useCanary =
      canary !== null && canaryWeight > 0 && (this.deps.random ?? Math.random)() * 100 < canaryWeight;
    const served: ServedVersion = useCanary && canary ? canary : primary;
    const variant = useCanary ? 'canary' : 'primary';
    const headers = {
      [VERSION_HEADER]: served.version,
      [VARIANT_HEADER]: variant,
      [INFERENCE_ID_HEADER]: inferenceId,
    };

    let response: ApiResponse;
    let outcome: Outcome;
    let requestIsJson = false;
    try {
      const request: ScoringRequest = parseScoringRequest(invocation.body, invocation.contentType);
      requestIsJson = request.format !== 'csv';
      const body = await this.deps.models.with(served.storageLocation, async (model, coldLoadMs) => {
        if (coldLoadMs !== undefined) {
          this.deps.logger.info('model loaded', {
            endpoint: endpointName,
            version: served.version,
            storageLocation: served.storageLocation,
            loadMs: Math.round(coldLoadMs * 100) / 100,
            sizeBytes: model.sizeBytes,
          });
        }
        return (await model.predict(request)).body;
      });
      response = {
        statusCode: 200,
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      };
      outcome = 'ok';
    } catch (error) {
      outcome =
        error instanceof ModelEvaluationError ||
        error instanceof ModelLoadError ||
        !(error instanceof RunwayError) ||
        error.httpStatus >= 500
          ? 'modelError'
          : 'clientError';
      this.logOutcome(error, outcome, invocation, served);
      response = errorResponse(error, invocation.requestId);
      response.headers = { ...response.headers, ...headers };
    }
    await this.finish(invocation, served.version, variant, outcome, response, started, {
      ...capture,
      requestIsJson: () => requestIsJson,
      response: () => response.body,
    });
    return response;
  }

  /**
   * A SageMaker-target endpoint: forwarded to the SageMaker endpoint its deploys maintain, which
   * splits traffic between its own variants. Counted and captured as the endpoint's primary version
   * (`sagemaker` before Runway recorded one), since SageMaker does not say which variant answered.
   */
  private async invokeSageMaker(
    invocation: Invocation,
    traffic: { primary: ServedVersion | null },
    started: number,
    capture: { inferenceId: string; sampleRate: number | undefined },
  ): Promise<ApiResponse> {
    const { sageMaker } = this.deps;
    if (!sageMaker) {
      throw new NotImplementedError(
        `Endpoint '${invocation.endpointName}' is served by SageMaker, which this runtime does not have`,
      );
    }
    const version = traffic.primary?.version ?? 'sagemaker';
    const { response, outcome } = await sageMaker.invoke(
      invocation.endpointName,
      invocation.body,
      invocation.contentType,
    );
    response.headers = {
      ...response.headers,
      [VERSION_HEADER]: version,
      [VARIANT_HEADER]: 'primary',
      [INFERENCE_ID_HEADER]: capture.inferenceId,
    };
    await this.finish(invocation, version, 'primary', outcome, response, started, {
      ...capture,
      requestIsJson: () => isJson(invocation.body),
      response: () => capturedResponse(response),
    });
    return response;
  }

  /** Counts the outcome for the version, captures the invocation when sampled, flushes when due. */
  private async finish(
    invocation: Invocation,
    version: string,
    variant: 'primary' | 'canary',
    outcome: Outcome,
    response: ApiResponse,
    started: number,
    /**
     * What capture stores: the invocation's id, the endpoint's own sampling rate, and (asked only of a
     * sampled invocation) whether the request is JSON and the answer as JSON.
     */
    captured: {
      inferenceId: string;
      sampleRate: number | undefined;
      requestIsJson: () => boolean;
      response: () => string;
    },
  ): Promise<void> {
    const latencyMs = performance.now() - started;
    this.deps.stats.record(invocation.endpointName, version, outcome, latencyMs);
    if (this.deps.capture.sampled(captured.sampleRate)) {
      this.deps.capture.append(
        {
          requestId: invocation.requestId,
          inferenceId: captured.inferenceId,
          endpoint: invocation.endpointName,
          version,
          variant,
          status: response.statusCode,
          latencyMs: Math.round(latencyMs * 1000) / 1000,
          contentType: invocation.contentType,
        },
        invocation.body,
        captured.requestIsJson(),
        captured.response(),
      );
    }
    await this.flushIfDue();
  }

  /** Writes statistics and capture when due (at most once a second); see `variant-stats.ts` for why here. */
  private async flushIfDue(): Promise<void> {
    const { stats, capture } = this.deps;
    const due: Promise<void>[] = [];
    if (stats.flushDue()) due.push(stats.flush());
    if (capture.flushDue()) due.push(capture.flush());
    if (due.length > 0) await Promise.all(due);
  }

  private logOutcome(error: unknown, outcome: Outcome, invocation: Invocation, served: ServedVersion): void {
    const fields = {
      endpoint: invocation.endpointName,
      version: served.version,
      errorCode: error instanceof RunwayError ? error.errorCode : undefined,
      detail: error instanceof Error ? error.message : String(error),
    };
    if (outcome === 'clientError') this.deps.logger.info('invocation refused', fields);
    // A model failing on valid input is expected of a bad canary: its cause, without a stack per request.
    else if (error instanceof ModelEvaluationError) {
      this.deps.logger.warn('invocation failed', {
        ...fields,
        cause: String((error.cause as Error)?.message ?? error.cause).split('\n')[0],
      });
    } else this.deps.logger.error('invocation failed', { ...fields, error });
  }
}

/** Whether a body Runway forwarded without parsing it is JSON. */
function isJson(body: string | undefined): boolean {
  if (body === undefined) return false;
  try {
    JSON.parse(body);
    return true;
  } catch {
    return false;
  }
}

/** The answer as capture stores it: JSON as it is, anything else (SageMaker's CSV, say) as a string. */
function capturedResponse(response: ApiResponse): string {
  if (response.headers['content-type']?.startsWith('application/json')) {
    try {
      JSON.parse(response.body);
      return response.body;
    } catch {
      // not JSON after all: stored as text below
    }
  }
  return JSON.stringify(response.body);
}
