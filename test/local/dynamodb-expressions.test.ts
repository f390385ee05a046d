import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  installExpressionTemplates,
  PARSE_EVERY_TIME,
} from '../../infra/local/emulators/dynamodb-expressions.ts';

const require = createRequire(import.meta.url);
installExpressionTemplates();
const validations = require(
  path.join(path.dirname(require.resolve('dynalite')), 'validations', 'index.js'),
) as Record<string | symbol, unknown> & { validateExpressions(data: unknown): string | undefined };
const parseEveryTime = validations[PARSE_EVERY_TIME] as (data: unknown) => string | undefined;

const PARSED = ['_updates', '_condition', '_keyCondition', '_filter', '_projection'];
const parsed = (data: Record<string, unknown>) => Object.fromEntries(PARSED.map((f) => [f, data[f]]));

/** The same request parsed by dynalite and through the templates: same answer, same trees. */
function expectSameParse(request: Record<string, unknown>) {
  const plain = structuredClone(request);
  const templated = structuredClone(request);
  const expected = parseEveryTime(plain);
  expect(validations.validateExpressions(templated)).toEqual(expected);
  if (expected === undefined) expect(parsed(templated)).toEqual(parsed(plain));
}

const shapes = (i: number): Array<Record<string, unknown>> => [
  {
    UpdateExpression: 'SET #metrics.#key = :point ADD revision :one',
    ConditionExpression:
      'lifecycleStage = :active AND (attribute_not_exists(#metrics.#key) OR #metrics.#key.#r < :r)',
    ExpressionAttributeNames: { '#metrics': 'metrics', '#key': `k${i % 3}`, '#r': 'r' },
    ExpressionAttributeValues: {
      ':point': { M: { v: { S: String(i) }, r: { S: String(i).padStart(8, '0') } } },
      ':r': { S: String(i).padStart(8, '0') },
      ':active': { S: 'active' },
      ':one': { N: '1' },
    },
  },
  {
    KeyConditionExpression: 'gsi1pk = :pk AND begins_with(gsi1sk, :prefix)',
    FilterExpression: '#entity = :run AND size(tags) > :n',
    ProjectionExpression: 'runId, #entity, metrics.#m, tags',
    ExpressionAttributeNames: { '#entity': 'entity', '#m': `m${i}` },
    ExpressionAttributeValues: {
      ':pk': { S: `EXP#${i}#RUNS` },
      ':prefix': { S: String(i) },
      ':run': { S: 'run' },
      ':n': { N: String(i) },
    },
  },
  {
    UpdateExpression:
      'SET a = list_append(if_not_exists(a, :empty), :more), b = :b + :c REMOVE d DELETE s :set',
    ExpressionAttributeValues: {
      ':empty': { L: [] },
      ':more': { L: [{ N: String(i) }] },
      ':b': { N: String(i) },
      ':c': { N: '2' },
      ':set': { SS: [`x${i}`] },
    },
  },
  // Errors are dynalite's own, whatever came before: unused values, an undefined name, a bad value.
  {
    ConditionExpression: 'a = :a',
    ExpressionAttributeValues: { ':a': { S: 'x' }, ':unused': { S: `${i}` } },
  },
  { ConditionExpression: '#missing = :a', ExpressionAttributeValues: { ':a': { S: 'x' } } },
  {
    ConditionExpression: 'a = :a',
    ExpressionAttributeValues: { ':a': i % 2 === 0 ? { S: 'x' } : { N: 'nope' } },
  },
  // Checks that read values' contents are never cached.
  {
    ConditionExpression: 'a BETWEEN :lo AND :hi',
    ExpressionAttributeValues: { ':lo': { N: String(i) }, ':hi': { N: '2' } },
  },
  {
    ConditionExpression: 'attribute_type(a, :t)',
    ExpressionAttributeValues: { ':t': { S: i % 2 ? 'S' : 'NOPE' } },
  },
];

describe('dynalite expressions parsed once per shape', () => {
  it('answers every request exactly as parsing it again would, values and errors included', () => {
    for (let i = 0; i < 6; i++) for (const request of shapes(i)) expectSameParse(request);
  });

  it('gives each request its own copy of the trees, holding its own values', () => {
    const first = shapes(1)[0] as Record<string, unknown>;
    const second = shapes(2)[0] as Record<string, unknown>;
    validations.validateExpressions(first);
    validations.validateExpressions(second);
    expect(second._updates).not.toBe(first._updates);
    expect(JSON.stringify(second._updates)).toContain('"00000002"');
    expect(JSON.stringify(second._updates)).not.toContain('"00000001"');
  });
});
