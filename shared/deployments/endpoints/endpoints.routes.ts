import * as z from 'zod';
import { defineOperation, HttpResponse, type Operation } from '../../platform/http/operation.ts';
import { int64 } from '../../platform/http/wire.ts';
import type { Page } from '../ports.ts';
import type { EndpointsService } from './endpoints.service.ts';
import {
  captureSampleRateInput,
  deploymentToWire,
  descriptionInput,
  type EndpointStatisticsWire,
  endpointNameInput,
  endpointToWire,
  followsInput,
  maxResultsInput,
  modelNameInput,
  policyChanges,
  rolloutPolicyInput,
  sagemakerInput,
  targetInput,
} from './endpoints.wire.ts';

type SagemakerInput = z.output<typeof sagemakerInput>;

const sagemakerChanges = (input: SagemakerInput | undefined) =>
  input && {
    instanceType: input.instance_type,
    initialInstanceCount: input.initial_instance_count,
    ...(input.image !== undefined ? { image: input.image } : {}),
  };

/** A page as MLflow answers one: an empty list and the last page's token are left out. */
function pageToWire<T, W>(key: string, page: Page<T>, toWire: (item: T) => W) {
  return {
    ...(page.items.length > 0 ? { [key]: page.items.map(toWire) } : {}),
    ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
  };
}

/**
 * The endpoints resource, REST-style under `/api/2.0/` and `/ajax-api/2.0/` (docs/endpoints.md):
 * - `runway/endpoints`: POST creates, GET lists (`max_results`, `page_token`, `model_name`);
 * - `runway/endpoints/{name}`: GET, PATCH (follows, rollout policy, description), DELETE;
 * - `runway/endpoints/{name}/deployments`: GET, the deployment history, newest first;
 * - `runway/endpoints/{name}/statistics`: GET, the model server's per-version statistics over time;
 * - `runway/endpoints/{name}/deploy`: POST, a manual deploy (202 with the deployment started).
 * The name in the path wins over one in the body. Errors are MLflow's `{"error_code", "message"}`.
 */
export function endpointOperations(service: EndpointsService): Operation[] {
  const page = { max_results: maxResultsInput.optional(), page_token: z.string().max(1000).optional() };
  return [
    defineOperation({
      method: 'POST',
      path: 'runway/endpoints',
      input: z
        .object({
          name: endpointNameInput,
          model_name: modelNameInput,
          follows: followsInput,
          target: targetInput.default('lambda'),
          rollout_policy: rolloutPolicyInput.optional(),
          description: descriptionInput.optional(),
          sagemaker: sagemakerInput.optional(),
          capture_sample_rate: captureSampleRateInput.optional(),
        })
        .strict(),
      handle: async (input) => ({
        endpoint: endpointToWire(
          await service.create({
            captureSampleRate: input.capture_sample_rate,
            name: input.name,
            modelName: input.model_name,
            follows: input.follows,
            target: input.target,
            rolloutPolicy: input.rollout_policy && policyChanges(input.rollout_policy),
            description: input.description,
            sagemaker: sagemakerChanges(input.sagemaker),
          }),
        ),
      }),
    }),
    defineOperation({
      method: 'GET',
      path: 'runway/endpoints',
      input: z.object({ ...page, model_name: modelNameInput.optional() }).strict(),
      handle: async ({ max_results, page_token, model_name }) => {
        const result = await service.list({
          maxResults: max_results,
          pageToken: page_token,
          modelName: model_name,
        });
        return pageToWire('endpoints', result, endpointToWire);
      },
    }),
    defineOperation({
      method: 'GET',
      path: 'runway/endpoints/{name}',
      input: z.object({ name: endpointNameInput }).strict(),
      handle: async ({ name }) => ({ endpoint: endpointToWire(await service.get(name)) }),
    }),
    defineOperation({
      method: 'PATCH',
      path: 'runway/endpoints/{name}',
      input: z
        .object({
          name: endpointNameInput,
          follows: followsInput.optional(),
          rollout_policy: rolloutPolicyInput.optional(),
          description: descriptionInput.optional(),
          target: targetInput.optional(),
          model_name: modelNameInput.optional(),
          sagemaker: sagemakerInput.optional(),
          capture_sample_rate: captureSampleRateInput.optional(),
        })
        .strict(),
      handle: async (input) => ({
        endpoint: endpointToWire(
          await service.update(input.name, {
            captureSampleRate: input.capture_sample_rate,
            modelName: input.model_name,
            follows: input.follows,
            rolloutPolicy: input.rollout_policy && policyChanges(input.rollout_policy),
            description: input.description,
            target: input.target,
            sagemaker: sagemakerChanges(input.sagemaker),
          }),
        ),
      }),
    }),
    defineOperation({
      method: 'DELETE',
      path: 'runway/endpoints/{name}',
      input: z.object({ name: endpointNameInput }).strict(),
      // Gone: 200 and `{}`. A SageMaker endpoint whose resources are still being torn down: 202 and the
      // endpoint, `Deleting`, with what it waits for in `status_message`.
      handle: async ({ name }) => {
        const deleting = await service.delete(name);
        return deleting ? new HttpResponse(202, { endpoint: endpointToWire(deleting) }) : {};
      },
    }),
    defineOperation({
      method: 'GET',
      path: 'runway/endpoints/{name}/deployments',
      input: z.object({ name: endpointNameInput, ...page }).strict(),
      handle: async ({ name, max_results, page_token }) => {
        const result = await service.listDeployments(name, {
          maxResults: max_results,
          pageToken: page_token,
        });
        return pageToWire('deployments', result, deploymentToWire);
      },
    }),
    defineOperation({
      method: 'GET',
      path: 'runway/endpoints/{name}/statistics',
      input: z
        .object({
          name: endpointNameInput,
          /** Epoch ms; at most a day back (what the server keeps). @default an hour ago */
          since: int64().optional(),
          resolution_ms: int64().pipe(z.number().int().min(10_000).max(3_600_000)).optional(),
        })
        .strict(),
      handle: async ({ name, since, resolution_ms }): Promise<EndpointStatisticsWire> => {
        const now = Date.now();
        const result = await service.statistics(name, {
          sinceMs: since ?? now - 3_600_000,
          resolutionMs: resolution_ms,
          now,
        });
        return {
          resolution_ms: result.resolutionMs,
          since: result.sinceMs,
          versions: result.versions.map(({ version, points }) => ({
            version,
            points: points.map((point) => ({
              time: point.start,
              invocations: point.invocations,
              model_errors: point.errors,
              client_errors: point.clientErrors,
              error_rate: point.errorRate,
              p50_latency_ms: point.p50LatencyMs,
              p99_latency_ms: point.p99LatencyMs,
            })),
          })),
        };
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'runway/endpoints/{name}/deploy',
      input: z
        .object({
          name: endpointNameInput,
          version: z
            .union([z.string(), z.number().int().transform(String)])
            .pipe(z.string().regex(/^[1-9]\d{0,9}$/, 'must be a version number'))
            .optional(),
        })
        .strict(),
      handle: async ({ name, version }) => {
        const started = await service.deploy(name, version);
        return new HttpResponse(202, {
          deployment_id: started.deploymentId,
          version: started.version,
          execution_arn: started.executionArn,
        });
      },
    }),
  ];
}
