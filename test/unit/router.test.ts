import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  EndpointNotFoundError,
  InvalidParameterError,
  MethodNotAllowedError,
} from '../../shared/platform/errors.ts';
import type { HttpRequest } from '../../shared/platform/http/http-request.ts';
import { fromApiGatewayEvent, parseQueryString } from '../../shared/platform/http/http-request.ts';
import { defineOperation } from '../../shared/platform/http/operation.ts';
import { parseJsonBody, Router } from '../../shared/platform/http/router.ts';
import { int64, repeated, viewType } from '../../shared/platform/http/wire.ts';
import { apiEvent } from '../support/api-event.ts';

const router = new Router([
  defineOperation({
    method: 'POST',
    path: 'mlflow/things/create',
    input: z.object({ name: z.string(), size: int64().optional() }),
    handle: (input) => input,
  }),
  defineOperation({
    method: 'GET',
    path: 'mlflow/things/get',
    input: z.object({ id: z.string(), ids: repeated(z.string()).optional(), view: viewType().optional() }),
    handle: (input) => input,
  }),
  defineOperation({
    method: 'GET',
    path: 'mlflow-artifacts/artifacts/{path+}',
    input: z.object({ path: z.string() }),
    handle: (input) => input,
  }),
  defineOperation({ method: 'GET', path: '/health', input: z.object({}), handle: () => 'ok' }),
]);

function request(
  method: string,
  pathAndQuery: string,
  body?: string,
  contentType = 'application/json',
): HttpRequest {
  const [path = '/', query = ''] = pathAndQuery.split('?');
  return {
    method,
    path,
    query: parseQueryString(query),
    headers: body === undefined ? {} : { 'content-type': contentType },
    body,
    requestId: 'r',
    pathParameters: {},
  };
}

function unexpected(): never {
  throw new Error('expected the request to be rejected');
}

describe('parseJsonBody', () => {
  const body = (text: string) =>
    parseJsonBody({ body: text, headers: { 'content-type': 'application/json' } });
  /** Protobuf JSON's reading of null, written out plainly: an object's null field is not set. */
  const reference = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(reference);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, inner]) => inner !== null)
        .map(([key, inner]) => [key, reference(inner)]),
    );
  };

  it('drops null fields at any depth (objects in arrays too) and keeps null array elements', () => {
    expect(body('{"a":null,"b":[null,{"c":null,"d":1}],"e":{"f":{"g":null}}}')).toEqual({
      b: [null, { d: 1 }],
      e: { f: {} },
    });
  });

  it('reads any JSON object as the reference reading does', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 6 })), (object) => {
        expect(body(JSON.stringify(object))).toEqual(reference(JSON.parse(JSON.stringify(object))));
      }),
      { seed: 5, numRuns: 200 },
    );
  });

  it('refuses arrays nested deeper than 100 levels, as it does objects', () => {
    const deep = (n: number) => `{"a":${'['.repeat(n - 1)}1${']'.repeat(n - 1)}}`;
    expect(() => body(deep(100))).not.toThrow();
    expect(() => body(deep(101))).toThrow(/nested deeper than 100 levels/);
  });
});

describe('Router', () => {
  it('serves an operation under both MLflow prefixes', async () => {
    for (const prefix of ['/api/2.0/', '/ajax-api/2.0/']) {
      await expect(
        router.dispatch(request('POST', `${prefix}mlflow/things/create`, '{"name":"a"}')),
      ).resolves.toEqual({
        name: 'a',
      });
    }
  });

  it('accepts int64 fields as numbers or strings, as protobuf JSON does', async () => {
    await expect(
      router.dispatch(request('POST', '/api/2.0/mlflow/things/create', '{"name":"a","size":"12"}')),
    ).resolves.toEqual({ name: 'a', size: 12 });
    await expect(
      router.dispatch(request('POST', '/api/2.0/mlflow/things/create', '{"name":"a","size":"1.5"}')),
    ).rejects.toThrow(/Invalid value "1.5" for parameter 'size'/);
  });

  it('reads GET parameters from the query string, keeping repeated arguments', async () => {
    await expect(
      router.dispatch(request('GET', '/api/2.0/mlflow/things/get?id=7&ids=a&ids=b&view=2')),
    ).resolves.toEqual({ id: '7', ids: ['a', 'b'], view: 'DELETED_ONLY' });
    await expect(
      router.dispatch(request('GET', '/api/2.0/mlflow/things/get?id=7&ids=a')),
    ).resolves.toMatchObject({
      ids: ['a'],
    });
  });

  it('names a missing required parameter as MLflow does', async () => {
    await expect(router.dispatch(request('POST', '/api/2.0/mlflow/things/create', '{}'))).rejects.toThrow(
      "Missing value for required parameter 'name'.",
    );
  });

  it.each([
    ['{"name":', /not valid JSON: .*end of JSON input/],
    ['{"name": "a",}', /not valid JSON: .*position/],
    ['{name: "a"}', /not valid JSON/],
    ['"{\\"name\\": "', /JSON string that does not hold valid JSON/],
  ])('refuses the malformed body %s with 400 naming the JSON error, never as {}', async (body, message) => {
    const error = await router
      .dispatch(request('POST', '/api/2.0/mlflow/things/create', body))
      .then(unexpected, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(InvalidParameterError);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain("'name'.");
  });

  it('reads a double-encoded body (a JSON string holding the object) as the object, as MLflow does', async () => {
    await expect(
      router.dispatch(request('POST', '/api/2.0/mlflow/things/create', JSON.stringify('{"name": "a"}'))),
    ).resolves.toEqual({ name: 'a' });
  });

  it.each(['[1,2]', '"text"', '42', 'null', JSON.stringify('[1]')])(
    'rejects the non-object JSON body %s with 400',
    async (body) => {
      await expect(
        router.dispatch(request('POST', '/api/2.0/mlflow/things/create', body)),
      ).rejects.toBeInstanceOf(InvalidParameterError);
    },
  );

  it('rejects a non-JSON content type', async () => {
    await expect(
      router.dispatch(
        request('POST', '/api/2.0/mlflow/things/create', 'name=a', 'application/x-www-form-urlencoded'),
      ),
    ).rejects.toThrow(/Content-Type must be application\/json/);
  });

  it('answers unknown paths with ENDPOINT_NOT_FOUND and wrong methods with 405', async () => {
    await expect(router.dispatch(request('GET', '/api/2.0/mlflow/nothing'))).rejects.toBeInstanceOf(
      EndpointNotFoundError,
    );
    await expect(router.dispatch(request('GET', '/elsewhere/mlflow/things/get?id=1'))).rejects.toBeInstanceOf(
      EndpointNotFoundError,
    );
    const error = await router
      .dispatch(request('GET', '/api/2.0/mlflow/things/create'))
      .then(unexpected, (e: unknown) => e as Error & { allowed?: string[] });
    expect(error).toBeInstanceOf(MethodNotAllowedError);
    expect(error.allowed).toEqual(['POST']);
  });

  it('matches greedy path parameters and absolute paths', async () => {
    await expect(
      router.dispatch(request('GET', '/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/model/MLmodel')),
    ).resolves.toEqual({ path: '1/abc/artifacts/model/MLmodel' });
    await expect(
      router.dispatch(request('GET', '/api/2.0/mlflow-artifacts/artifacts/')),
    ).rejects.toBeInstanceOf(EndpointNotFoundError);
    await expect(router.dispatch(request('GET', '/health'))).resolves.toBe('ok');
  });
});

describe('fromApiGatewayEvent', () => {
  it('keeps repeated query arguments that the event map would join with commas', () => {
    const event = apiEvent('GET', '/api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids=a,b&run_ids=c');
    expect(event.queryStringParameters?.run_ids).toBeDefined();
    expect(fromApiGatewayEvent(event).query.run_ids).toEqual(['a,b', 'c']);
  });

  it('decodes base64 bodies and lower-cases header names', () => {
    const event = apiEvent('POST', '/x', undefined, { 'X-Custom': 'v' });
    event.body = Buffer.from('{"a":1}').toString('base64');
    event.isBase64Encoded = true;
    const request = fromApiGatewayEvent(event);
    expect(request.body).toBe('{"a":1}');
    expect(request.headers['x-custom']).toBe('v');
  });

  it('keeps a path with a malformed escape so that routing answers 404, not 500', () => {
    expect(fromApiGatewayEvent(apiEvent('GET', '/api/2.0/%E0%A4%A')).path).toBe('/api/2.0/%E0%A4%A');
  });
});
