/**
 * Key ordering and the listing algorithm of the local S3 emulator, kept pure so they can be reasoned
 * about (and tested) apart from HTTP and disk.
 *
 * S3 lists keys in UTF-8 byte order, which is Unicode code point order. JavaScript's `<` compares
 * UTF-16 code units instead, which disagrees for characters U+E000..U+FFFF versus characters beyond
 * U+FFFF (stored as surrogates, D800..DFFF); {@link compareKeys} corrects exactly that case.
 */

/** Compares two keys in UTF-8 byte order (negative, zero or positive). */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Moves surrogates (which start code points above U+FFFF) after U+E000..U+FFFF. */
function codePointRank(codeUnit: number): number {
  if (codeUnit < 0xd800) return codeUnit;
  return codeUnit >= 0xe000 ? codeUnit - 0x800 : codeUnit + 0x2000;
}

/** Index of the first key `>= target` (or `> target` when `strict`). */
export function lowerBound(keys: readonly string[], target: string, strict = false): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareKeys(keys[mid] as string, target);
    if (c < 0 || (strict && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Index of the first key at or after `from` that does not start with `prefix`. Keys sharing a
 * prefix are contiguous in sorted order, so this is a binary search, which lets a listing skip a
 * "folder" of a million keys in ~20 steps.
 */
function endOfPrefix(keys: readonly string[], prefix: string, from: number): number {
  let lo = from;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string).startsWith(prefix)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A set of keys kept sorted in {@link compareKeys} order. */
export class SortedKeys {
  private keys: string[] = [];

  /** Replaces the contents in one go (sorting once), for loading an index from disk. */
  reset(keys: Iterable<string>): void {
    this.keys = [...keys].sort(compareKeys);
  }

  /** Adds `key` unless it is already present. */
  add(key: string): void {
    const i = lowerBound(this.keys, key);
    if (this.keys[i] !== key) this.keys.splice(i, 0, key);
  }

  /** Removes `key` if present. */
  delete(key: string): void {
    const i = lowerBound(this.keys, key);
    if (this.keys[i] === key) this.keys.splice(i, 1);
  }

  get size(): number {
    return this.keys.length;
  }

  /** A read-only view for listing; valid until the next change. */
  view(): readonly string[] {
    return this.keys;
  }
}

/** One page request: S3's prefix, delimiter and max-keys, and the exclusive starting point. */
export interface ListQuery {
  readonly prefix: string;
  readonly delimiter: string;
  readonly maxKeys: number;
  /** Exclusive lower bound: a start-after, marker or the last entry of the previous page. */
  readonly after?: string | undefined;
}

/** One page of results. `last` is the last key or common prefix returned, for resuming. */
export interface ListPage {
  readonly keys: string[];
  readonly commonPrefixes: string[];
  readonly isTruncated: boolean;
  readonly last: string | undefined;
}

/** The common prefix that `key` rolls up into under `query`, if any. */
function commonPrefixOf(key: string, query: ListQuery): string | undefined {
  if (query.delimiter === '' || !key.startsWith(query.prefix)) return undefined;
  const at = key.indexOf(query.delimiter, query.prefix.length);
  return at < 0 ? undefined : key.slice(0, at + query.delimiter.length);
}

/** Where a page starts: after `after`, and past a whole common prefix if `after` is one. */
function startIndex(keys: readonly string[], query: ListQuery): number {
  const atPrefix = lowerBound(keys, query.prefix);
  if (query.after === undefined || compareKeys(query.after, query.prefix) < 0) return atPrefix;
  const next = lowerBound(keys, query.after, true);
  // A page that ended on a common prefix resumes after everything it stood for.
  return commonPrefixOf(query.after, query) === query.after ? endOfPrefix(keys, query.after, next) : next;
}

/**
 * Lists one page as ListObjects(V2) does: keys under `prefix`, those containing `delimiter` after
 * the prefix rolled up into one common prefix each (which count toward `maxKeys` like keys),
 * including "folders" that hold only deeper keys.
 */
export function listKeys(keys: readonly string[], query: ListQuery): ListPage {
  const result = {
    keys: [] as string[],
    commonPrefixes: [] as string[],
    isTruncated: false,
    last: undefined as string | undefined,
  };
  if (query.maxKeys <= 0) return result;
  let entries = 0;
  let i = startIndex(keys, query);
  while (i < keys.length) {
    const key = keys[i] as string;
    if (!key.startsWith(query.prefix)) break;
    if (entries === query.maxKeys) {
      result.isTruncated = true;
      break;
    }
    const prefix = commonPrefixOf(key, query);
    if (prefix === undefined) {
      result.keys.push(key);
      i += 1;
    } else {
      result.commonPrefixes.push(prefix);
      i = endOfPrefix(keys, prefix, i);
    }
    result.last = prefix ?? key;
    entries += 1;
  }
  return result;
}
