import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** An item (or a map's value) in DynamoDB's JSON: each attribute `{ <type>: <value> }`. */
type Item = Record<string, Record<string, unknown>>;
type ItemSize = (item: Item, compress?: boolean, addMetaSize?: boolean, rangeKey?: string) => number;

/** Where dynalite's own `itemSize` is kept once replaced (the tests compare the two). */
export const DYNALITE_ITEM_SIZE = Symbol.for('runway.dynalite.itemSize');

/** big.js's pattern for a number it accepts (`NUMERIC` in big.js 6). */
const NUMERIC = /^-?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

/**
 * Replaces dynalite's `itemSize` (the 400 KB item limit, BatchGetItem's 16 MB answer limit, a
 * Query's 1 MB page, the request units the capacity meter counts) with the same arithmetic without
 * big.js. dynalite sizes every number by parsing it into a big.js decimal for its count of
 * significant digits and its exponent: in a profile of the filtered search (48 runs read by one
 * BatchGetItem), that was the main thread's largest own cost, 0.57 ms a search. This reads the
 * digits and the exponent from the text as big.js's `parse` does, so every size is the same; a test
 * compares the two on generated items. dynalite's calls inside its own module (capacity of a Query
 * it serves itself) keep its version, which gives the same figures.
 */
export function installItemSize(): void {
  const db = require(path.join(path.dirname(require.resolve('dynalite')), 'db', 'index.js')) as {
    itemSize: ItemSize;
    [DYNALITE_ITEM_SIZE]?: ItemSize;
  };
  if (db[DYNALITE_ITEM_SIZE]) return;
  db[DYNALITE_ITEM_SIZE] = db.itemSize;
  db.itemSize = itemSize;
}

/** dynalite's `itemSize`, the same arithmetic (`dynalite/db/index.js`). */
export function itemSize(item: Item, compress?: boolean, addMetaSize?: boolean, rangeKey?: string): number {
  let rangeKeySize = 0;
  let size = 0;
  for (const attr in item) {
    const value = item[attr] as Record<string, unknown>;
    const attrSize = sizeWithStorage(value, compress === true && attr !== rangeKey);
    if (compress && attr === rangeKey) rangeKeySize = attrSize;
    else size += attrSize + (compress ? 1 : attr.length);
  }
  return !addMetaSize ? size : 2 + size + (1 + Math.floor((1 + size) / 3072)) * (18 + rangeKeySize);
}

function sizeWithStorage(attribute: Record<string, unknown>, compress: boolean): number {
  let type = '';
  for (type in attribute) break;
  const value = attribute[type];
  const size = valueSize(value, type, compress);
  if (!compress) return size;
  switch (type) {
    case 'S':
      return size + (size < 128 ? 1 : size < 16384 ? 2 : 3);
    case 'B':
    case 'N':
      return size + 1;
    case 'SS':
    case 'BS':
    case 'NS':
      return size + (value as unknown[]).length + 1;
    case 'NULL':
      return 0;
    case 'BOOL':
      return 1;
    default:
      return size;
  }
}

function valueSize(value: unknown, type: string, compress: boolean): number {
  switch (type) {
    case 'S':
      return (value as string).length;
    case 'B':
      return Buffer.from(value as string, 'base64').length;
    case 'N':
      return numberSize(value as string);
    case 'SS':
      return sum(value as string[], (text) => text.length);
    case 'BS':
      return sum(value as string[], (text) => Buffer.from(text, 'base64').length);
    case 'NS':
      return sum(value as string[], numberSize);
    case 'NULL':
    case 'BOOL':
      return 1;
    case 'L':
      return (
        3 + sum(value as Array<Record<string, unknown>>, (member) => 1 + sizeWithStorage(member, compress))
      );
    case 'M':
      return 3 + Object.keys(value as Item).length + itemSize(value as Item, compress);
    default:
      return Number.NaN;
  }
}

/**
 * A number's size as dynalite counts it: 1 byte, plus a byte per two significant digits, plus one
 * when the count is even and the exponent too, plus one for a minus sign; zero is 1 byte. The
 * significant digits and the exponent are read as big.js's `parse` reads them.
 */
export function numberSize(text: string): number {
  if (!NUMERIC.test(text)) {
    // big.js refuses it: throw its error, as dynalite's version would.
    const Big = require('big.js') as new (value: string) => unknown;
    new Big(text);
  }
  let digits = text;
  const negative = digits.charCodeAt(0) === 45; // '-'
  if (negative) digits = digits.slice(1);
  let point = digits.indexOf('.');
  if (point > -1) digits = digits.replace('.', '');
  const exponentAt = digits.search(/e/i);
  if (exponentAt > 0) {
    if (point < 0) point = exponentAt;
    point += Number(digits.slice(exponentAt + 1));
    digits = digits.substring(0, exponentAt);
  } else if (point < 0) {
    point = digits.length;
  }
  let last = digits.length;
  let first = 0;
  while (first < last && digits.charCodeAt(first) === 48) first++;
  if (first === last) return 1;
  while (last > 0 && digits.charCodeAt(--last) === 48);
  const count = last - first + 1;
  const exponent = point - first - 1;
  return 1 + Math.ceil(count / 2) + (count % 2 || exponent % 2 ? 0 : 1) + (negative ? 1 : 0);
}

function sum<T>(values: T[], size: (value: T) => number): number {
  let total = 0;
  for (const value of values) total += size(value);
  return total;
}
