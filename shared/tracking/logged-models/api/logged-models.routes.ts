import * as z from 'zod';
import { defineOperation, type Operation } from '../../../platform/http/operation.ts';
import { bodyList, idString, int64, protoEnum } from '../../../platform/http/wire.ts';
import type { LoggedModelService } from '../logged-model.service.ts';
import { LOGGED_MODEL_STATUSES } from '../model.ts';
import { loggedModelToWire } from './logged-model.wire.ts';

/** A param or tag as MLflow sends them; MLflow's tables refuse a missing key or value, so do we. */
const keyValue = () => z.object({ key: z.string(), value: z.string() });

/** `LoggedModelStatus` by name or by number (PENDING is 1), as protobuf JSON accepts enums. */
const status = () => protoEnum(LOGGED_MODEL_STATUSES, 1);

/** MLflow reads `allow_deleted` as true only when it says `true` (any case). */
const queryFlag = () =>
  z.preprocess((value) => (typeof value === 'string' ? value.toLowerCase() === 'true' : value), z.boolean());

/** Protobuf JSON cannot tell `""` from absent; neither does MLflow for these optional strings. */
const optionalText = () =>
  z
    .string()
    .optional()
    .transform((value) => value || undefined);

const modelId = z.string();

/**
 * MLflow 3's logged-model endpoints (service.proto: createLoggedModel ... LogLoggedModelParams),
 * served under `/api/2.0/` and `/ajax-api/2.0/` as MLflow's server does (their `since` is 2.0).
 * Listing and reading a model's artifacts (`.../artifacts/directories`, `.../artifacts/files`) are
 * the artifacts function's, which holds the bucket (`artifacts/api/artifacts.routes.ts`).
 */
export function loggedModelOperations(service: LoggedModelService): Operation[] {
  return [
    defineOperation({
      method: 'POST',
      path: 'mlflow/logged-models',
      input: z.object({
        experiment_id: idString(),
        name: z.string().optional(),
        model_type: z.string().optional(),
        source_run_id: z.string().optional(),
        params: z.array(keyValue()).optional(),
        tags: z.array(keyValue()).optional(),
      }),
      handle: async (input) => ({
        model: loggedModelToWire(
          await service.create({
            experimentId: input.experiment_id,
            name: input.name,
            modelType: input.model_type,
            sourceRunId: input.source_run_id,
            params: input.params,
            tags: input.tags,
          }),
        ),
      }),
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/logged-models/search',
      input: z.object({
        experiment_ids: bodyList(idString()),
        filter: z.string().optional(),
        datasets: z.array(z.object({ dataset_name: z.string(), dataset_digest: optionalText() })).optional(),
        max_results: int64().optional(),
        order_by: z
          .array(
            z.object({
              field_name: z.string(),
              ascending: z.boolean().optional(),
              dataset_name: optionalText(),
              dataset_digest: optionalText(),
            }),
          )
          .optional(),
        page_token: z.string().optional(),
      }),
      handle: async (input) => {
        const page = await service.search({
          experimentIds: input.experiment_ids,
          filter: input.filter,
          datasets: input.datasets?.map((dataset) => ({
            datasetName: dataset.dataset_name,
            datasetDigest: dataset.dataset_digest,
          })),
          maxResults: input.max_results,
          orderBy: input.order_by?.map((term) => ({
            fieldName: term.field_name,
            ascending: term.ascending,
            datasetName: term.dataset_name,
            datasetDigest: term.dataset_digest,
          })),
          pageToken: input.page_token,
        });
        return {
          ...(page.models.length > 0 ? { models: page.models.map(loggedModelToWire) } : {}),
          ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
        };
      },
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/logged-models/{model_id}',
      input: z.object({ model_id: modelId, allow_deleted: queryFlag().optional() }),
      handle: async ({ model_id, allow_deleted }) => ({
        model: loggedModelToWire(await service.get(model_id, { allowDeleted: allow_deleted ?? false })),
      }),
    }),
    defineOperation({
      method: 'PATCH',
      path: 'mlflow/logged-models/{model_id}',
      input: z.object({ model_id: modelId, status: status() }),
      handle: async ({ model_id, status }) => ({
        model: loggedModelToWire(await service.finalize(model_id, status)),
      }),
    }),
    defineOperation({
      method: 'DELETE',
      path: 'mlflow/logged-models/{model_id}',
      input: z.object({ model_id: modelId }),
      handle: async ({ model_id }) => {
        await service.delete(model_id);
        return {};
      },
    }),
    defineOperation({
      method: 'PATCH',
      path: 'mlflow/logged-models/{model_id}/tags',
      input: z.object({ model_id: modelId, tags: z.array(keyValue()).default([]) }),
      handle: async ({ model_id, tags }) => {
        await service.setTags(model_id, tags);
        return {};
      },
    }),
    defineOperation({
      method: 'DELETE',
      // `+`: MLflow's client puts the key in the path unescaped, and tag keys may contain `/`.
      path: 'mlflow/logged-models/{model_id}/tags/{tag_key+}',
      input: z.object({ model_id: modelId, tag_key: z.string() }),
      handle: async ({ model_id, tag_key }) => {
        await service.deleteTag(model_id, tag_key);
        return {};
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/logged-models/{model_id}/params',
      input: z.object({ model_id: modelId, params: z.array(keyValue()).default([]) }),
      handle: async ({ model_id, params }) => {
        await service.logParams(model_id, params);
        return {};
      },
    }),
  ];
}
