import * as z from 'zod';
import { defineOperation, type Operation } from '../../platform/http/operation.ts';
import { idString, int64, repeated, tagInput } from '../../platform/http/wire.ts';
import type { RegistryService } from '../registry.service.ts';
import { modelVersionToWire } from './registry.wire.ts';

const name = z.string();
/** MLflow sends versions as strings; some clients send numbers. Non-integers are refused by the service. */
const version = idString();
/** A protobuf bool: JSON true/false, or the words in a query string. */
const bool = () =>
  z.union([
    z.boolean(),
    z.enum(['true', 'false', 'True', 'False']).transform((value) => value.toLowerCase() === 'true'),
  ]);
const searchInput = z.object({
  filter: z.string().optional(),
  max_results: int64().optional(),
  order_by: repeated(z.string()).optional(),
  page_token: z.string().optional(),
});

/**
 * MLflow's model-version endpoints (model_registry.proto), served under `/api/2.0/` and
 * `/ajax-api/2.0/`. DELETE endpoints read their parameters from the JSON body, as MLflow's do.
 */
export function modelVersionOperations(service: RegistryService): Operation[] {
  return [
    defineOperation({
      method: 'POST',
      path: 'mlflow/model-versions/create',
      input: z.object({
        name,
        source: z.string(),
        run_id: z.string().optional(),
        tags: z.array(tagInput()).optional(),
        run_link: z.string().optional(),
        description: z.string().optional(),
        // MLflow 3: the logged model the version is made from (its client also sends `models:/<id>`).
        model_id: z.string().optional(),
      }),
      handle: async (input) => ({
        model_version: modelVersionToWire(
          await service.createVersion({
            name: input.name,
            source: input.source,
            runId: input.run_id,
            tags: input.tags,
            runLink: input.run_link,
            description: input.description,
            modelId: input.model_id,
          }),
        ),
      }),
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/model-versions/get',
      input: z.object({ name, version }),
      handle: async ({ name, version }) => ({
        model_version: modelVersionToWire(await service.getVersion(name, version)),
      }),
    }),
    defineOperation({
      method: 'PATCH',
      path: 'mlflow/model-versions/update',
      input: z.object({ name, version, description: z.string().optional() }),
      handle: async ({ name, version, description }) => ({
        model_version: modelVersionToWire(await service.updateVersion(name, version, description)),
      }),
    }),
    defineOperation({
      method: 'DELETE',
      path: 'mlflow/model-versions/delete',
      input: z.object({ name, version }),
      handle: async ({ name, version }) => {
        await service.deleteVersion(name, version);
        return {};
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/model-versions/transition-stage',
      input: z.object({ name, version, stage: z.string(), archive_existing_versions: bool().default(false) }),
      handle: async ({ name, version, stage, archive_existing_versions }) => ({
        model_version: modelVersionToWire(
          await service.transitionStage(name, version, stage, archive_existing_versions),
        ),
      }),
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/model-versions/search',
      input: searchInput,
      handle: async (input) => {
        const page = await service.searchVersions({
          filter: input.filter,
          maxResults: input.max_results,
          orderBy: input.order_by,
          pageToken: input.page_token,
        });
        return {
          ...(page.versions.length > 0 ? { model_versions: page.versions.map(modelVersionToWire) } : {}),
          ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
        };
      },
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/model-versions/get-download-uri',
      input: z.object({ name, version }),
      handle: async ({ name, version }) => ({ artifact_uri: await service.getDownloadUri(name, version) }),
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/model-versions/set-tag',
      input: z.object({ name, version, key: z.string(), value: z.string().default('') }),
      handle: async ({ name, version, key, value }) => {
        await service.setVersionTag(name, version, key, value);
        return {};
      },
    }),
    defineOperation({
      method: 'DELETE',
      path: 'mlflow/model-versions/delete-tag',
      input: z.object({ name, version, key: z.string() }),
      handle: async ({ name, version, key }) => {
        await service.deleteVersionTag(name, version, key);
        return {};
      },
    }),
  ];
}
