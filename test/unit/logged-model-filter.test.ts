import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../shared/platform/errors.ts';
import {
  type LoggedModelClause,
  parseLoggedModelFilter,
} from '../../shared/tracking/logged-models/search/logged-model-filter.parser.ts';

function rejects(filter: string): string {
  try {
    parseLoggedModelFilter(filter);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidParameterError);
    expect((error as InvalidParameterError).errorCode).toBe('INVALID_PARAMETER_VALUE');
    return (error as Error).message;
  }
  throw new Error(`expected '${filter}' to be rejected`);
}

describe('parseLoggedModelFilter: what MLflow 3 filters look like', () => {
  it.each<[string, LoggedModelClause[]]>([
    ['metrics.accuracy > 0.9', [{ kind: 'metric', key: 'accuracy', comparator: '>', value: 0.9 }]],
    ['metrics.rmse<=-1.5e-3', [{ kind: 'metric', key: 'rmse', comparator: '<=', value: -0.0015 }]],
    ['metric.loss != 0', [{ kind: 'metric', key: 'loss', comparator: '!=', value: 0 }]],
    ["params.alpha = '0.3'", [{ kind: 'param', key: 'alpha', comparator: '=', value: '0.3' }]],
    ['params.alpha = "0.3"', [{ kind: 'param', key: 'alpha', comparator: '=', value: '0.3' }]],
    ["parameters.lr LIKE '0.%'", [{ kind: 'param', key: 'lr', comparator: 'LIKE', value: '0.%' }]],
    [
      "tags.mlflow.user ilike 'ALI%'",
      [{ kind: 'tag', key: 'mlflow.user', comparator: 'ILIKE', value: 'ALI%' }],
    ],
    ["tags.`team name` = 'ml'", [{ kind: 'tag', key: 'team name', comparator: '=', value: 'ml' }]],
    ['tags."a-b" = \'x\'', [{ kind: 'tag', key: 'a-b', comparator: '=', value: 'x' }]],
    [
      "tag.release IN ('v1.0', 'v1.1')",
      [{ kind: 'tag', key: 'release', comparator: 'IN', value: ['v1.0', 'v1.1'] }],
    ],
    ["tags.release not in ('v1',)", [{ kind: 'tag', key: 'release', comparator: 'NOT IN', value: ['v1'] }]],
    ["name = 'model'", [{ kind: 'attribute', key: 'name', comparator: '=', value: 'model' }]],
    [
      "attributes.model_type != 'agent'",
      [{ kind: 'attribute', key: 'model_type', comparator: '!=', value: 'agent' }],
    ],
    ["`source_run_id` = 'abc'", [{ kind: 'attribute', key: 'source_run_id', comparator: '=', value: 'abc' }]],
    [
      "model_id IN ('m-1', 'm-2')",
      [{ kind: 'attribute', key: 'model_id', comparator: 'IN', value: ['m-1', 'm-2'] }],
    ],
    [
      'creation_time >= 100',
      [{ kind: 'attribute', key: 'creation_timestamp', comparator: '>=', value: 100 }],
    ],
    [
      'creation_timestamp_ms < 5',
      [{ kind: 'attribute', key: 'creation_timestamp', comparator: '<', value: 5 }],
    ],
    [
      'last_updated_time = 7',
      [{ kind: 'attribute', key: 'last_updated_timestamp', comparator: '=', value: 7 }],
    ],
    ["name = 'it''s'", [{ kind: 'attribute', key: 'name', comparator: '=', value: "it's" }]],
    ["name = 'a\\'b'", [{ kind: 'attribute', key: 'name', comparator: '=', value: "a'b" }]],
    ["name = ''", [{ kind: 'attribute', key: 'name', comparator: '=', value: '' }]],
    ["name = 'x AND y'", [{ kind: 'attribute', key: 'name', comparator: '=', value: 'x AND y' }]],
  ])('%s', (filter, expected) => {
    expect(parseLoggedModelFilter(filter)).toEqual(expected);
  });

  it('joins conditions with AND in any case', () => {
    expect(parseLoggedModelFilter("metrics.acc > 0.5 and params.lr = '0.1' AND tags.t = 'x'")).toEqual([
      { kind: 'metric', key: 'acc', comparator: '>', value: 0.5 },
      { kind: 'param', key: 'lr', comparator: '=', value: '0.1' },
      { kind: 'tag', key: 't', comparator: '=', value: 'x' },
    ]);
  });

  it('reads no filter from undefined, empty and blank strings', () => {
    expect(parseLoggedModelFilter(undefined)).toEqual([]);
    expect(parseLoggedModelFilter('')).toEqual([]);
    expect(parseLoggedModelFilter('  \n ')).toEqual([]);
  });

  it('normalises status values to the protobuf names, except in LIKE patterns', () => {
    const status = (filter: string) => parseLoggedModelFilter(filter)[0]?.value;
    expect(status("status = 'READY'")).toBe('LOGGED_MODEL_READY');
    expect(status("status = 'ready'")).toBe('LOGGED_MODEL_READY');
    expect(status("status = 'LOGGED_MODEL_PENDING'")).toBe('LOGGED_MODEL_PENDING');
    expect(status("status = 'FAILED'")).toBe('LOGGED_MODEL_UPLOAD_FAILED');
    expect(status("status = '2'")).toBe('LOGGED_MODEL_READY');
    expect(status("status IN ('PENDING', 'UPLOAD_FAILED')")).toEqual([
      'LOGGED_MODEL_PENDING',
      'LOGGED_MODEL_UPLOAD_FAILED',
    ]);
    expect(status("status LIKE '%READY'")).toBe('%READY');
    expect(status("status = 'unknown'")).toBe('unknown');
  });
});

describe('parseLoggedModelFilter: refusals name the problem', () => {
  it.each<[string, RegExp]>([
    ["name = 'a' OR name = 'b'", /'OR' is not supported/],
    ["name = 'a' name = 'b'", /expected AND before 'name' at position 11/],
    ["name = 'a' AND", /nothing follows 'AND'/],
    ["foo = 'a'", /invalid attribute key 'foo'.*'creation_time'/],
    ["run.name = 'a'", /invalid entity type 'run'/],
    ["datasets.name = 'a'", /invalid entity type 'datasets'/],
    ["attributes.bogus = 'a'", /invalid attribute key 'bogus'/],
    ['metrics. = 1', /unexpected character|expected a comparison|the key/],
    ["tags.`` = 'a'", /the key of 'tags.``' is empty/],
    ["metrics.acc > 'high'", /expected a number to compare metrics.acc with, got ''high''/],
    ['creation_time > yesterday', /expected a number/],
    ["metrics.acc LIKE '1%'", /invalid comparison operator for metrics.acc: 'LIKE'/],
    ["name > 'a'", /invalid comparison operator for name: '>'/],
    ["name == 'a'", /invalid comparison operator for name: '=='/],
    ['name = model', /expected a quoted string to compare name with/],
    ['name = 5', /expected a quoted string/],
    ["params.lr IN '0.1'", /IN needs a list like/],
    ['params.lr IN ()', /expected a quoted string in the list, got '\)'/],
    ['params.lr IN (1, 2)', /expected a quoted string in the list, got '1'/],
    ["params.lr IN ('a' 'b')", /expected ',' or '\)' in the list/],
    ["params.lr IN ('a'", /expected ',' or '\)' in the list, got the end of the filter/],
    ["params.lr NOT LIKE 'a'", /expected a comparison operator, got 'NOT'/],
    ["name = 'unterminated", /unterminated quote at position 7/],
    ["name = 'a'; drop", /unexpected character ';' at position 10/],
    ["(name = 'a')", /expected an entity such as/],
    ["AND = 'a'", /expected an entity such as/],
    ['name', /expected a comparison operator, got the end of the filter/],
    ['name IS NULL', /expected a comparison operator, got 'IS'/],
  ])('%s', (filter, message) => {
    expect(rejects(filter)).toMatch(message);
  });

  it('quotes the whole filter in the message', () => {
    expect(rejects("x = 'a'")).toMatch(/^Invalid filter string 'x = 'a'': /);
  });
});
