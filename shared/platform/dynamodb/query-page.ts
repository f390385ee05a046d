import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { InvalidParameterError } from '../errors.ts';

type Item = Record<string, unknown>;

/** A request for one page of a listing. */
export interface PageRequest {
  maxResults: number;
  /** A token from a previous page of the same listing; anything else is 400 INVALID_PARAMETER_VALUE. */
  pageToken?: string | undefined;
}

/** A page of a listing; `nextPageToken` only when there is a next page (never an empty last page). */
export interface Page<T> {
  items: T[];
  nextPageToken?: string;
}

/**
 * A page token for a listing in key order: which listing it belongs to (`kind`) and the sort value
 * of the last item given, opaque to the caller.
 */
export function encodeKeyToken(kind: string, last: string): string {
  return Buffer.from(JSON.stringify({ k: kind, l: last }), 'utf8').toString('base64url');
}

/**
 * The last sort value a token of this listing carries. A token of another listing, or one whose
 * value `valid` refuses, is a client's mistake: 400 INVALID_PARAMETER_VALUE, never a query.
 */
export function decodeKeyToken(token: string, kind: string, valid: (last: string) => boolean): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      k?: unknown;
      l?: unknown;
    };
    if (parsed.k === kind && typeof parsed.l === 'string' && valid(parsed.l)) return parsed.l;
  } catch {
    // Falls through to the 400 below.
  }
  throw new InvalidParameterError(`Invalid page token: ${token.slice(0, 100)}`);
}

/**
 * One page of a query. It asks for one item more than the page holds, so that a next page is
 * announced only when there is one; the token is `encodeKeyToken(kind, tokenOf(last item))`.
 */
export async function queryPage<T>(
  client: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, 'Limit' | 'ExclusiveStartKey'>,
  page: {
    maxResults: number;
    start: Item | undefined;
    kind: string;
    map: (item: Item) => T;
    tokenOf: (item: Item) => string;
  },
): Promise<Page<T>> {
  const { Items = [] } = await client.send(
    new QueryCommand({ ...input, Limit: page.maxResults + 1, ExclusiveStartKey: page.start }),
  );
  const items = Items.slice(0, page.maxResults);
  const last = items.at(-1);
  return {
    items: items.map(page.map),
    ...(Items.length > page.maxResults && last
      ? { nextPageToken: encodeKeyToken(page.kind, page.tokenOf(last)) }
      : {}),
  };
}

/** Every item a query matches, page after page (for partitions known to be small). */
export async function queryAll(
  client: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, 'ExclusiveStartKey'>,
): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await client.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}
