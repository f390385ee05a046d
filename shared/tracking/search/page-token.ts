/**
 * Opaque page tokens for offset pagination.
 *
 * MLflow's tokens are base64 of `{"offset": n}` (SearchUtils.create_page_token), so a token
 * from one query silently pages through another. Ours also carry a fingerprint of the query
 * (filter, order_by, view type, ...) and a token presented with a different query is refused
 * with INVALID_PARAMETER_VALUE, as are tokens that are not ours. They are base64url so they
 * survive a query string unescaped (the GET search endpoints take them there).
 */
import { createHash } from 'node:crypto';
import { InvalidParameterError } from '../../platform/errors.ts';

/** What a page token carries. */
export interface PageTokenState {
  /** Index of the first item of the next page in the sorted, filtered result. */
  readonly offset: number;
  /** {@link queryFingerprint} of the query the token belongs to. */
  readonly fingerprint: string;
}

/** Far longer than any token we issue; bounds the work spent on garbage. */
const MAX_TOKEN_LENGTH = 512;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Encodes a page token. */
export function encodePageToken(state: PageTokenState): string {
  if (!Number.isSafeInteger(state.offset) || state.offset < 0) {
    throw new RangeError(`Page offset must be a non-negative integer, got ${state.offset}`);
  }
  return Buffer.from(JSON.stringify({ offset: state.offset, fp: state.fingerprint }), 'utf8').toString(
    'base64url',
  );
}

function invalid(reason: string): InvalidParameterError {
  return new InvalidParameterError(`Invalid page token: ${reason}`);
}

/**
 * Decodes the `page_token` request parameter.
 *
 * @param token The token, or `undefined`/`''` for the first page (offset 0), as in MLflow.
 * @param fingerprint The current query's {@link queryFingerprint}.
 * @throws InvalidParameterError if the token is not one of ours, or belongs to another query.
 */
export function decodePageToken(token: string | undefined, fingerprint: string): { offset: number } {
  if (token === undefined || token === '') return { offset: 0 };
  const { offset, fp } = readToken(token) as { offset?: unknown; fp?: unknown };
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0 || typeof fp !== 'string') {
    throw invalid('it was not issued by this server');
  }
  checkFingerprint(fp, fingerprint);
  return { offset };
}

/** The JSON object a token of ours carries, or the 400 for anything else. */
function readToken(token: string): Record<string, unknown> {
  if (token.length > MAX_TOKEN_LENGTH || !BASE64URL.test(token)) {
    throw invalid('could not base64-decode it');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid('it was not issued by this server');
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalid('it was not issued by this server');
  return parsed as Record<string, unknown>;
}

function checkFingerprint(found: unknown, fingerprint: string): void {
  if (found !== fingerprint) {
    throw invalid(
      'it belongs to a different query (filter, order_by or another parameter changed); ' +
        'repeat the search without page_token',
    );
  }
}

/**
 * Encodes a cursor page token: where a keyset-paged query stopped (for example the sort key of the
 * last item answered), with the query's fingerprint, for searches that page by key rather than by
 * offset.
 */
export function encodeCursorPageToken(cursor: unknown, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ cursor, fp: fingerprint }), 'utf8').toString('base64url');
}

/**
 * Decodes a token of {@link encodeCursorPageToken}: the cursor, or `undefined` for the first page.
 * The caller validates the cursor's shape.
 * @throws InvalidParameterError for tokens that are not ours or belong to another query.
 */
export function decodeCursorPageToken(token: string | undefined, fingerprint: string): unknown {
  if (token === undefined || token === '') return undefined;
  const parsed = readToken(token);
  if (!('cursor' in parsed)) throw invalid('it was not issued by this server');
  checkFingerprint(parsed.fp, fingerprint);
  return parsed.cursor;
}

/** JSON with sorted object keys, so equal queries give equal text whatever the key order. */
function canonicalJson(value: unknown): string {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return 'null';
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (value instanceof Map) return canonicalJson([...value.entries()]);
  if (value instanceof Set) return canonicalJson([...value]);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return canonicalJson(toJSON.call(value));
  const entries = Object.entries(value)
    .filter(([, item]) => item !== undefined && typeof item !== 'function' && typeof item !== 'symbol')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}

/**
 * A short, stable digest of everything that defines a query's result order, e.g.
 * `queryFingerprint([filter ?? '', orderBy ?? [], viewType, experimentIds])`. Object key order
 * and `undefined` properties do not matter. Pass the parsed clauses and order terms instead of
 * the raw strings if whitespace-only differences should keep tokens valid.
 */
export function queryFingerprint(parts: unknown): string {
  return createHash('sha256').update(canonicalJson(parts)).digest('base64url').slice(0, 22);
}

/**
 * One page of an already filtered and sorted list, with MLflow's `paginate` semantics: a next
 * token only when items remain past this page.
 */
export function paginate<T>(
  items: readonly T[],
  pageToken: string | undefined,
  maxResults: number,
  fingerprint: string,
): { items: T[]; nextPageToken: string | undefined } {
  const { offset } = decodePageToken(pageToken, fingerprint);
  const end = offset + maxResults;
  return {
    items: items.slice(offset, end),
    nextPageToken: end < items.length ? encodePageToken({ offset: end, fingerprint }) : undefined,
  };
}
