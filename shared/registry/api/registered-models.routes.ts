import * as z from 'zod';
import { defineOperation, type Operation } from '../../platform/http/operation.ts';
import { bodyList, idString, int64, type ListOf, repeated, tagInput } from '../../platform/http/wire.ts';
import type { RegistryService } from '../registry.service.ts';
import { modelVersionToWire, registeredModelToWire } from './registry.wire.ts';

const name = z.string();
const searchInput = z.object({
  filter: z.string().optional(),
  // Optional here (unlike experiments/search): MLflow defaults it to 100.
  max_results: int64().optional(),
  order_by: repeated(z.string()).optional(),
  page_token: z.string().optional(),
});
const latestVersionsInput = (list: ListOf) => z.object({ name, stages: list(z.string()).optional() });

/**
 * MLflow's registered-model endpoints (model_registry.proto), served under `/api/2.0/` and
 * `/ajax-api/2.0/`. DELETE endpoints read their parameters from the JSON body, as MLflow's do.
 */
export function registeredModelOperations(service: RegistryService): Operation[] {
  const search = async (input: z.output<typeof searchInput>) => {
    const page = await service.searchModels({
      filter: input.filter,
      maxResults: input.max_results,
      orderBy: input.order_by,
      pageToken: input.page_token,
    });
    return {
      ...(page.models.length > 0 ? { registered_models: page.models.map(registeredModelToWire) } : {}),
      ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
    };
  };
  const latestVersions = async ({ name, stages }: z.output<ReturnType<typeof latestVersionsInput>>) => {
    const versions = await service.getLatestVersions(name, stages);
    return versions.length > 0 ? { model_versions: versions.map(modelVersionToWire) } : {};
  };

  return [
    defineOperation({
      method: 'POST',
      path: 'mlflow/registered-models/create',
      input: z.object({ name, tags: z.array(tagInput()).optional(), description: z.string().optional() }),
      handle: async ({ name, tags, description }) => ({
        registered_model: registeredModelToWire(await service.createModel({ name, tags, description })),
      }),
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/registered-models/get',
      input: z.object({ name }),
      handle: async ({ name }) => ({ registered_model: registeredModelToWire(await service.getModel(name)) }),
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/registered-models/rename',
      input: z.object({ name, new_name: z.string() }),
      handle: async ({ name, new_name }) => ({
        registered_model: registeredModelToWire(await service.renameModel(name, new_name)),
      }),
    }),
    defineOperation({
      method: 'PATCH',
      path: 'mlflow/registered-models/update',
      input: z.object({ name, description: z.string().optional() }),
      handle: async ({ name, description }) => ({
        registered_model: registeredModelToWire(await service.updateModel(name, description)),
      }),
    }),
    defineOperation({
      method: 'DELETE',
      path: 'mlflow/registered-models/delete',
      input: z.object({ name }),
      handle: async ({ name }) => {
        await service.deleteModel(name);
        return {};
      },
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/registered-models/search',
      input: searchInput,
      handle: search,
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/registered-models/get-latest-versions',
      input: latestVersionsInput(bodyList),
      handle: latestVersions,
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/registered-models/get-latest-versions',
      input: latestVersionsInput(repeated),
      handle: latestVersions,
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/registered-models/set-tag',
      input: z.object({ name, key: z.string(), value: z.string().default('') }),
      handle: async ({ name, key, value }) => {
        await service.setModelTag(name, key, value);
        return {};
      },
    }),
    defineOperation({
      method: 'DELETE',
      path: 'mlflow/registered-models/delete-tag',
      input: z.object({ name, key: z.string() }),
      handle: async ({ name, key }) => {
        await service.deleteModelTag(name, key);
        return {};
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/registered-models/alias',
      input: z.object({ name, alias: z.string(), version: idString() }),
      handle: async ({ name, alias, version }) => {
        await service.setAlias(name, alias, version);
        return {};
      },
    }),
    defineOperation({
      method: 'DELETE',
      path: 'mlflow/registered-models/alias',
      input: z.object({ name, alias: z.string() }),
      handle: async ({ name, alias }) => {
        await service.deleteAlias(name, alias);
        return {};
      },
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/registered-models/alias',
      input: z.object({ name, alias: z.string() }),
      handle: async ({ name, alias }) => ({
        model_version: modelVersionToWire(await service.getVersionByAlias(name, alias)),
      }),
    }),
  ];
}
