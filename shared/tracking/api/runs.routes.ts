import * as z from 'zod';
import { InvalidParameterError } from '../../platform/errors.ts';
import { MAX_JSON_BODY_BYTES } from '../../platform/http/body-limit.ts';
import { defineOperation, type Operation } from '../../platform/http/operation.ts';
import { bodyList, idString, int64, repeated, tagInput, viewType } from '../../platform/http/wire.ts';
import { RUN_LIMITS, RUN_NAME_TAG, RUN_STATUSES } from '../run.model.ts';
import type { RunService } from '../run.service.ts';
import { metricToWire, runInfoToWire, runToWire } from './run.wire.ts';

/** A double as protobuf JSON writes it: a number, or "NaN", "Infinity", "-Infinity". */
const double = () =>
  z.union([
    z.number(),
    z
      .enum(['NaN', 'Infinity', '-Infinity'])
      .transform((text) =>
        text === 'NaN'
          ? Number.NaN
          : text === 'Infinity'
            ? Number.POSITIVE_INFINITY
            : Number.NEGATIVE_INFINITY,
      ),
    z
      .string()
      .regex(/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/, 'must be a number')
      .transform(Number),
  ]);

/** `run_id`, or the deprecated `run_uuid` that older clients send instead. */
const runRef = {
  run_id: z.string().optional(),
  run_uuid: z.string().optional(),
};
function runIdOf(input: { run_id?: string | undefined; run_uuid?: string | undefined }): string {
  const runId = input.run_id || input.run_uuid;
  if (!runId) throw new InvalidParameterError("Missing value for required parameter 'run_id'.");
  return runId;
}

const metricInput = z.object({
  key: z.string(),
  value: double(),
  timestamp: int64(),
  step: int64().default(0),
  model_id: z.string().optional(),
  dataset_name: z.string().optional(),
  dataset_digest: z.string().optional(),
});
const paramInput = z.object({ key: z.string(), value: z.string().default('') });
const toMetric = (metric: z.output<typeof metricInput>) => ({
  key: metric.key,
  value: metric.value,
  timestamp: metric.timestamp,
  step: metric.step,
  modelId: metric.model_id,
  datasetName: metric.dataset_name,
  datasetDigest: metric.dataset_digest,
});

/** MLflow's run and metric endpoints (service.proto), under `/api/2.0/` and `/ajax-api/2.0/`. */
export function runOperations(service: RunService): Operation[] {
  const ok = () => ({});
  return [
    defineOperation({
      method: 'POST',
      path: 'mlflow/runs/create',
      input: z.object({
        experiment_id: idString().optional(),
        user_id: z.string().optional(),
        start_time: int64().optional(),
        run_name: z.string().optional(),
        tags: z.array(tagInput()).optional(),
      }),
      handle: async (input) => ({
        run: runToWire(
          await service.create({
            experimentId: input.experiment_id,
            userId: input.user_id,
            startTime: input.start_time,
            runName: input.run_name,
            tags: input.tags,
          }),
        ),
      }),
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/runs/get',
      input: z.object(runRef),
      handle: async (input) => ({ run: runToWire(await service.get(runIdOf(input))) }),
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/runs/update',
      input: z.object({
        ...runRef,
        status: z.enum(RUN_STATUSES).optional(),
        end_time: int64().optional(),
        run_name: z.string().optional(),
      }),
      handle: async (input) => {
        const run = await service.update({
          runId: runIdOf(input),
          status: input.status,
          endTime: input.end_time,
          runName: input.run_name,
        });
        const name = run.tags.find((tag) => tag.key === RUN_NAME_TAG)?.value ?? '';
        return { run_info: runInfoToWire(run.info, name) };
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/runs/delete',
      input: z.object(runRef),
      handle: async (input) => {
        await service.setLifecycle(runIdOf(input), 'deleted');
        return ok();
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/runs/restore',
      input: z.object(runRef),
      handle: async (input) => {
        await service.setLifecycle(runIdOf(input), 'active');
        return ok();
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/runs/log-metric',
      input: metricInput.extend(runRef),
      handle: async (input) => {
        await service.logBatch({ runId: runIdOf(input), metrics: [toMetric(input)] });
        return ok();
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/runs/log-parameter',
      input: paramInput.extend(runRef),
      handle: async (input) => {
        await service.logBatch({ runId: runIdOf(input), params: [{ key: input.key, value: input.value }] });
        return ok();
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/runs/set-tag',
      input: z.object({ ...runRef, key: z.string(), value: z.string().default('') }),
      handle: async (input) => {
        await service.logBatch({ runId: runIdOf(input), tags: [{ key: input.key, value: input.value }] });
        return ok();
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/runs/delete-tag',
      input: z.object({ run_id: z.string(), key: z.string() }),
      handle: async (input) => {
        await service.deleteTag(input.run_id, input.key);
        return ok();
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/runs/log-batch',
      // MLflow's own rule, with its answer (400), checked before the body is parsed.
      maxBodyBytes: RUN_LIMITS.batchBytes,
      bodyTooLarge: (size, limit) =>
        new InvalidParameterError(
          `Batched logging API requests must be at most ${limit} bytes, got a request of size ${size}.`,
        ),
      input: z.object({
        run_id: z.string(),
        metrics: z.array(metricInput).optional(),
        params: z.array(paramInput).optional(),
        tags: z.array(tagInput()).optional(),
      }),
      handle: async (input) => {
        await service.logBatch({
          runId: input.run_id,
          metrics: input.metrics?.map(toMetric),
          params: input.params,
          tags: input.tags,
        });
        return ok();
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/runs/log-inputs',
      // A dataset's schema alone may be 1 MB (MLflow's limit), and a request may carry many datasets.
      maxBodyBytes: MAX_JSON_BODY_BYTES,
      input: z.object({
        run_id: z.string(),
        datasets: z
          .array(
            z.object({
              tags: z.array(tagInput()).optional(),
              dataset: z.object({
                name: z.string(),
                digest: z.string(),
                source_type: z.string(),
                source: z.string(),
                schema: z.string().optional(),
                profile: z.string().optional(),
              }),
            }),
          )
          .optional(),
        models: z.array(z.object({ model_id: z.string() })).optional(),
      }),
      handle: async (input) => {
        await service.logInputs(
          input.run_id,
          (input.datasets ?? []).map(({ tags, dataset }) => ({
            tags: tags ?? [],
            dataset: {
              name: dataset.name,
              digest: dataset.digest,
              sourceType: dataset.source_type,
              source: dataset.source,
              schema: dataset.schema,
              profile: dataset.profile,
            },
          })),
          (input.models ?? []).map((model) => model.model_id),
        );
        return ok();
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/runs/outputs',
      input: z.object({
        run_id: z.string(),
        models: z.array(z.object({ model_id: z.string(), step: int64().default(0) })),
      }),
      handle: async (input) => {
        await service.logOutputs(
          input.run_id,
          input.models.map((model) => ({ modelId: model.model_id, step: model.step })),
        );
        return ok();
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/runs/log-model',
      input: z.object({ run_id: z.string(), model_json: z.string() }),
      handle: async (input) => {
        await service.logModel(input.run_id, input.model_json);
        return ok();
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/runs/search',
      input: z.object({
        experiment_ids: bodyList(idString()).optional(),
        filter: z.string().optional(),
        run_view_type: viewType().optional(),
        max_results: int64().optional(),
        order_by: bodyList(z.string()).optional(),
        page_token: z.string().optional(),
      }),
      handle: async (input) => {
        const page = await service.search({
          experimentIds: input.experiment_ids ?? [],
          filter: input.filter,
          viewType: input.run_view_type,
          maxResults: input.max_results,
          orderBy: input.order_by,
          pageToken: input.page_token,
        });
        return {
          ...(page.runs.length > 0 ? { runs: page.runs.map(runToWire) } : {}),
          ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
        };
      },
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/metrics/get-history',
      input: z.object({
        ...runRef,
        metric_key: z.string(),
        page_token: z.string().optional(),
        max_results: int64().optional(),
      }),
      handle: async (input) => {
        const page = await service.metricHistory({
          runId: runIdOf(input),
          key: input.metric_key,
          maxResults: input.max_results,
          pageToken: input.page_token,
        });
        return {
          ...(page.metrics.length > 0 ? { metrics: page.metrics.map(metricToWire) } : {}),
          ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
        };
      },
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/metrics/get-history-bulk-interval',
      input: z.object({
        run_ids: repeated(z.string()),
        metric_key: z.string(),
        start_step: int64().optional(),
        end_step: int64().optional(),
        max_results: int64().optional(),
      }),
      handle: async (input) => {
        const metrics = await service.bulkInterval({
          runIds: input.run_ids,
          key: input.metric_key,
          startStep: input.start_step,
          endStep: input.end_step,
          maxResults: input.max_results,
        });
        return metrics.length > 0
          ? { metrics: metrics.map((m) => ({ ...metricToWire(m), run_id: m.runId })) }
          : {};
      },
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/metrics/get-history-bulk',
      input: z.object({
        run_id: repeated(z.string()),
        metric_key: z.string(),
        max_results: int64().optional(),
      }),
      handle: async (input) => {
        const metrics = await service.historyBulk(input.run_id, input.metric_key, input.max_results);
        return { metrics: metrics.map((m) => ({ ...metricToWire(m), run_id: m.runId })) };
      },
    }),
  ];
}
