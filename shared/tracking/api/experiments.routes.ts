import * as z from 'zod';
import { defineOperation, type Operation } from '../../platform/http/operation.ts';
import {
  bodyList,
  idString,
  int64,
  type ListOf,
  repeated,
  tagInput,
  viewType,
} from '../../platform/http/wire.ts';
import type { ExperimentService } from '../experiment.service.ts';
import { experimentToWire } from './experiment.wire.ts';

const experimentId = idString();

/**
 * MLflow's experiment endpoints (service.proto), served under `/api/2.0/` and `/ajax-api/2.0/`,
 * plus `delete-experiment-tag`, which MLflow 2.22 lacks and MLflow 3 serves.
 */
export function experimentOperations(service: ExperimentService): Operation[] {
  const searchInput = (list: ListOf) =>
    z.object({
      // Required here (unlike runs/search): MLflow's server answers 400 without it.
      max_results: int64(),
      page_token: z.string().optional(),
      filter: z.string().optional(),
      order_by: list(z.string()).optional(),
      view_type: viewType().optional(),
    });
  const search = async (input: z.output<ReturnType<typeof searchInput>>) => {
    const page = await service.search({
      maxResults: input.max_results,
      pageToken: input.page_token,
      filter: input.filter,
      orderBy: input.order_by,
      viewType: input.view_type,
    });
    return {
      ...(page.experiments.length > 0 ? { experiments: page.experiments.map(experimentToWire) } : {}),
      ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
    };
  };

  return [
    defineOperation({
      method: 'POST',
      path: 'mlflow/experiments/create',
      input: z.object({
        name: z.string(),
        artifact_location: z.string().optional(),
        tags: z.array(tagInput()).optional(),
      }),
      handle: async ({ name, artifact_location, tags }) => ({
        experiment_id: await service.create({ name, artifactLocation: artifact_location, tags }),
      }),
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/experiments/get',
      input: z.object({ experiment_id: experimentId }),
      handle: async ({ experiment_id }) => ({
        experiment: experimentToWire(await service.get(experiment_id)),
      }),
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/experiments/get-by-name',
      input: z.object({ experiment_name: z.string() }),
      handle: async ({ experiment_name }) => ({
        experiment: experimentToWire(await service.getByName(experiment_name)),
      }),
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/experiments/search',
      input: searchInput(bodyList),
      handle: search,
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/experiments/search',
      input: searchInput(repeated),
      handle: search,
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/experiments/update',
      input: z.object({ experiment_id: experimentId, new_name: z.string() }),
      handle: async ({ experiment_id, new_name }) => {
        await service.rename(experiment_id, new_name);
        return {};
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/experiments/delete',
      input: z.object({ experiment_id: experimentId }),
      handle: async ({ experiment_id }) => {
        await service.delete(experiment_id);
        return {};
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/experiments/restore',
      input: z.object({ experiment_id: experimentId }),
      handle: async ({ experiment_id }) => {
        await service.restore(experiment_id);
        return {};
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/experiments/set-experiment-tag',
      // Without `value` the tag is stored as "", as MLflow 3.11 does.
      input: z.object({ experiment_id: experimentId, key: z.string(), value: z.string().default('') }),
      handle: async ({ experiment_id, key, value }) => {
        await service.setTag(experiment_id, key, value);
        return {};
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/experiments/delete-experiment-tag',
      input: z.object({ experiment_id: experimentId, key: z.string() }),
      handle: async ({ experiment_id, key }) => {
        await service.deleteTag(experiment_id, key);
        return {};
      },
    }),
  ];
}
