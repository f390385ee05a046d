import { DynamoEndpointStore } from '../../adapters/dynamodb-endpoint-store.ts';
import type { EndpointStore } from '../../ports.ts';
import type { EndpointDirectory } from '../ports.ts';

/** Endpoints read a page at a time: the largest page the store serves in one Query. */
const PAGE_SIZE = 100;

/** The endpoints store as the trigger and the reconciler read it. */
export function createEndpointDirectory(tableName: string, store?: EndpointStore): EndpointDirectory {
  const endpoints = store ?? new DynamoEndpointStore(tableName);
  return {
    async listByModel(modelName) {
      const all = [];
      let pageToken: string | undefined;
      do {
        const page = await endpoints.listByModel(modelName, { maxResults: PAGE_SIZE, pageToken });
        all.push(...page.items);
        pageToken = page.nextPageToken;
      } while (pageToken);
      return all;
    },
    async list(pageToken) {
      const page = await endpoints.list({ maxResults: PAGE_SIZE, pageToken });
      return { endpoints: page.items, nextPageToken: page.nextPageToken };
    },
    async listDeleting(pageToken) {
      const page = await endpoints.listDeleting({ maxResults: PAGE_SIZE, pageToken });
      return { endpoints: page.items, nextPageToken: page.nextPageToken };
    },
  };
}
