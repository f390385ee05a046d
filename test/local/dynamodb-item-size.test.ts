import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DYNALITE_ITEM_SIZE,
  installItemSize,
  itemSize,
  numberSize,
} from '../../infra/local/emulators/dynamodb-item-size.ts';

const require = createRequire(import.meta.url);
type Item = Record<string, Record<string, unknown>>;
type ItemSize = (item: Item, compress?: boolean, addMetaSize?: boolean, rangeKey?: string) => number;
const db = require(path.join(path.dirname(require.resolve('dynalite')), 'db', 'index.js')) as {
  itemSize: ItemSize;
  [DYNALITE_ITEM_SIZE]?: ItemSize;
};
installItemSize();
const dynalites = db[DYNALITE_ITEM_SIZE] as ItemSize;

/** A small deterministic generator, so a failure names the seed that made it. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Numbers in every form DynamoDB and big.js accept: signs, points, exponents, leading and trailing zeros. */
function numberText(next: () => number): string {
  const digits = (n: number) => Array.from({ length: n }, () => String(Math.floor(next() * 10))).join('');
  const sign = next() < 0.3 ? '-' : '';
  const zeros = (n: number) => '0'.repeat(Math.floor(next() * n));
  const forms = [
    () => `${zeros(3)}${digits(1 + Math.floor(next() * 20))}${zeros(4)}`,
    () =>
      `${zeros(2)}${digits(1 + Math.floor(next() * 8))}.${zeros(3)}${digits(Math.floor(next() * 12))}${zeros(3)}`,
    () => `.${zeros(5)}${digits(1 + Math.floor(next() * 6))}`,
    () =>
      `${digits(1 + Math.floor(next() * 5))}${next() < 0.5 ? '.' : ''}${digits(Math.floor(next() * 4))}e${next() < 0.5 ? '-' : next() < 0.5 ? '+' : ''}${Math.floor(next() * 130)}`,
    () => zeros(4) || '0',
    () => `0.${zeros(6)}`,
    () => String(next() * 10 ** Math.floor(next() * 30 - 15)),
  ];
  return sign + (forms[Math.floor(next() * forms.length)] as () => string)();
}

function attribute(next: () => number, depth: number): Record<string, unknown> {
  const text = () =>
    'ab\u00e9\u6f22\ud83d\ude00'.repeat(Math.floor(next() * 60)).slice(0, Math.floor(next() * 300));
  const binary = () => Buffer.from(text()).toString('base64');
  const kinds = [
    () => ({ S: text() }),
    () => ({ N: numberText(next) }),
    () => ({ B: binary() }),
    () => ({ SS: Array.from({ length: 1 + Math.floor(next() * 4) }, (_, i) => `${text()}${i}`) }),
    () => ({ NS: Array.from({ length: 1 + Math.floor(next() * 4) }, () => numberText(next)) }),
    () => ({ BS: Array.from({ length: 1 + Math.floor(next() * 3) }, binary) }),
    () => ({ NULL: true }),
    () => ({ BOOL: next() < 0.5 }),
    () => ({
      L: depth > 2 ? [] : Array.from({ length: Math.floor(next() * 4) }, () => attribute(next, depth + 1)),
    }),
    () => ({ M: depth > 2 ? {} : item(next, depth + 1) }),
  ];
  return (kinds[Math.floor(next() * kinds.length)] as () => Record<string, unknown>)();
}

function item(next: () => number, depth = 0): Item {
  const out: Item = {};
  const count = 1 + Math.floor(next() * 8);
  for (let i = 0; i < count; i++)
    out[`attr${i}${'x'.repeat(Math.floor(next() * 5))}`] = attribute(next, depth);
  return out;
}

describe("the local DynamoDB emulator's item sizes", () => {
  it('replaces the itemSize every caller of dynalite reaches', () => {
    expect(db.itemSize).toBe(itemSize);
    expect(dynalites).not.toBe(itemSize);
  });

  it("sizes numbers exactly as dynalite's big.js arithmetic does", () => {
    const next = random(7);
    const fixed = [
      '0',
      '-0',
      '0.000',
      '00',
      '.5',
      '5.',
      '1e5',
      '1E-5',
      '12.34e+3',
      '100',
      '0.001',
      '-1200',
      '1e125',
      '9.9999999999999999999999999999999999999E+125',
      '-1E-130',
    ];
    for (const text of [...fixed, ...Array.from({ length: 5000 }, () => numberText(next))]) {
      expect(itemSize({ n: { N: text } }), text).toBe(dynalites({ n: { N: text } }));
    }
    expect(numberSize('0')).toBe(1);
    expect(numberSize('-12.5')).toBe(dynalites({ n: { N: '-12.5' } }) - 1);
  });

  it('throws where big.js refuses a number, as dynalite does', () => {
    expect(() => dynalites({ n: { N: '+5' } })).toThrow();
    expect(() => numberSize('+5')).toThrow();
    expect(() => numberSize('1e')).toThrow();
  });

  it('gives the same size as dynalite for generated items, with every option', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const next = random(seed);
      const generated = item(next);
      const rangeKey = next() < 0.5 ? Object.keys(generated)[0] : undefined;
      for (const [compress, addMetaSize] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ] as const) {
        expect(itemSize(generated, compress, addMetaSize, rangeKey), `seed ${seed}`).toBe(
          dynalites(generated, compress, addMetaSize, rangeKey),
        );
      }
    }
  });

  it("keeps dynalite's 400 KB item limit where the size falls", () => {
    // Just under and just over the limit, counted the same way.
    const limit = 400 * 1024;
    const under = { pk: { S: 'p' }, sk: { S: 's' }, blob: { S: 'x'.repeat(limit - 6 - 4) } };
    const over = { ...under, blob: { S: 'x'.repeat(limit - 6 - 3) } };
    expect(itemSize(under)).toBe(limit);
    expect(itemSize(over)).toBe(limit + 1);
    expect(itemSize(over)).toBe(dynalites(over));
  });
});
