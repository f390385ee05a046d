import type { CloudFrontRequest, CloudFrontResultResponse } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { AccessControl } from '../../shared/access/access-control.ts';
import type { Authentication } from '../../shared/access/authenticator.ts';
import type { Principal } from '../../shared/access/model.ts';
import type { Permission } from '../../shared/access/permissions.ts';
import type { GrantStore } from '../../shared/access/ports.ts';
import { ConfigurationError } from '../../shared/platform/config.ts';
import { Logger } from '../../shared/platform/logger.ts';
import {
  ArtifactEdge,
  artifactOriginResponse,
  artifactPathOf,
  objectKey,
} from '../../shared/tracking/artifacts/edge/artifact-edge.ts';
import { EDGE_CONFIG_HEADERS, edgeConfigFrom } from '../../shared/tracking/artifacts/edge/edge-config.ts';

const GiB = 1024 * 1024 * 1024;
const user = (name: string, ceiling: Permission = 'MANAGE'): Principal => ({
  name,
  kind: 'token',
  admin: false,
  ceiling,
});

/**
 * The edge over in-memory ports: tokens `t-<user>` (`t-reader` is a read-only token), grants by
 * `<user>@<experiment>`, deletions recorded. Counts every token check and grant read.
 */
function setup(grants: Record<string, Permission> = {}, defaultPermission: Permission = 'READ') {
  const calls = { authenticate: 0, grants: [] as string[], deleted: [] as string[] };
  const tokens: Record<string, Principal> = {
    'Bearer t-ana': user('ana'),
    'Bearer t-bob': user('bob'),
    'Bearer t-reader': user('ana', 'READ'),
  };
  const edge = new ArtifactEdge({
    authenticate: async (header): Promise<Authentication> => {
      calls.authenticate++;
      if (header === undefined) return { ok: false, reason: 'missing' };
      const principal = tokens[header];
      return principal ? { ok: true, principal } : { ok: false, reason: 'unknown' };
    },
    access: new AccessControl({
      grants: {
        get: async (_kind: string, resource: string, name: string) => {
          calls.grants.push(`${name}@${resource}`);
          return grants[`${name}@${resource}`];
        },
      } as unknown as GrantStore,
      locator: {} as never,
      defaultPermission,
    }),
    service: {
      delete: async (path: string) => {
        calls.deleted.push(path);
      },
    },
    keyPrefix: 'artifacts',
    logger: new Logger({ sink: () => undefined }),
  });
  return { edge, calls };
}

function viewer(method: string, uri: string, headers: Record<string, string> = {}): CloudFrontRequest {
  return {
    clientIp: '203.0.113.9',
    method,
    uri,
    querystring: 'x=1',
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [{ key: k, value: v }]])),
  };
}

const FILE = '/api/2.0/mlflow-artifacts/artifacts/7/run1/artifacts/model/weights%20v1.bin';
const isAnswer = (result: unknown): result is CloudFrontResultResponse =>
  typeof result === 'object' && result !== null && 'status' in result;
const bodyOf = (result: unknown) => JSON.parse(String((result as CloudFrontResultResponse).body));

describe('the artifact edge: origin request', () => {
  it("sends an EDIT holder's PUT to the object's key, with only what S3 needs and nothing of the viewer's credentials", async () => {
    const { edge, calls } = setup({ 'ana@7': 'EDIT' });
    const result = await edge.originRequest(
      viewer('PUT', FILE, {
        authorization: 'Bearer t-ana',
        'content-length': String(300 * 1024 * 1024),
        'content-type': 'application/x-anything',
        'x-amz-acl': 'public-read',
        'x-amz-website-redirect-location': 'https://evil.example',
        cookie: 'session=1',
        'user-agent': 'mlflow-python-client/3.11.1',
      }),
      'req-1',
    );
    expect(isAnswer(result)).toBe(false);
    const request = result as CloudFrontRequest;
    expect(request.uri).toBe('/artifacts/7/run1/artifacts/model/weights%20v1.bin');
    expect(request.querystring).toBe('');
    expect(Object.keys(request.headers).sort()).toEqual([
      'content-length',
      'content-type',
      'user-agent',
      'x-amz-content-sha256',
    ]);
    expect(request.headers['x-amz-content-sha256']?.[0]?.value).toBe('UNSIGNED-PAYLOAD');
    expect(request.headers['content-type']?.[0]?.value).toBe('application/octet-stream');
    expect(calls.grants).toEqual(['ana@7']);
  });

  it('lets READ download and refuses its upload with 403 before anything is stored; MANAGE deletes', async () => {
    const { edge, calls } = setup({ 'ana@7': 'READ', 'bob@7': 'EDIT' });
    const get = await edge.originRequest(viewer('GET', FILE, { authorization: 'Bearer t-ana' }), 'r');
    expect(isAnswer(get)).toBe(false);
    const put = await edge.originRequest(
      viewer('PUT', FILE, { authorization: 'Bearer t-ana', 'content-length': '3' }),
      'r',
    );
    expect((put as CloudFrontResultResponse).status).toBe('403');
    expect(bodyOf(put)).toEqual({
      error_code: 'PERMISSION_DENIED',
      message: "Permission denied: 'ana' may not update experiment 7",
    });
    const del = await edge.originRequest(viewer('DELETE', FILE, { authorization: 'Bearer t-bob' }), 'r');
    expect((del as CloudFrontResultResponse).status).toBe('403');
    expect(calls.deleted).toEqual([]);
    const managed = setup({ 'bob@7': 'MANAGE' });
    const deleted = await managed.edge.originRequest(
      viewer('DELETE', '/api/2.0/mlflow-artifacts/artifacts/7/run1/artifacts/model/', {
        authorization: 'Bearer t-bob',
      }),
      'r',
    );
    expect({ status: (deleted as CloudFrontResultResponse).status, body: bodyOf(deleted) }).toEqual({
      status: '200',
      body: {},
    });
    expect(managed.calls.deleted).toEqual(['7/run1/artifacts/model']);
  });

  it('caps a read-only token at READ whatever the grant, and applies the default permission without one', async () => {
    const { edge } = setup({ 'ana@7': 'MANAGE' });
    const put = await edge.originRequest(
      viewer('PUT', FILE, { authorization: 'Bearer t-reader', 'content-length': '3' }),
      'r',
    );
    expect((put as CloudFrontResultResponse).status).toBe('403');
    const closed = setup({}, 'NO_PERMISSIONS');
    const get = await closed.edge.originRequest(viewer('GET', FILE, { authorization: 'Bearer t-ana' }), 'r');
    expect(bodyOf(get).error_code).toBe('PERMISSION_DENIED');
  });

  it("answers MLflow's 401 with the challenge for no token, an unknown one, and SigV4 (served at the IAM URL)", async () => {
    const { edge, calls } = setup();
    for (const [authorization, message] of [
      [undefined, 'No credentials'],
      ['Bearer nope', 'The token is not valid'],
      [
        'AWS4-HMAC-SHA256 Credential=AKIA/20260101/eu-west-1/execute-api/aws4_request, Signature=ab',
        'IAM API URL',
      ],
    ] as const) {
      const result = (await edge.originRequest(
        viewer('PUT', FILE, { ...(authorization ? { authorization } : {}), 'content-length': '1' }),
        'r',
      )) as CloudFrontResultResponse;
      expect(result.status).toBe('401');
      expect(result.headers?.['www-authenticate']?.[0]?.value).toBe(
        'Bearer realm="runway", Basic realm="runway"',
      );
      expect(bodyOf(result).error_code).toBe('UNAUTHENTICATED');
      expect(bodyOf(result).message).toContain(message);
    }
    // SigV4 is refused without a token lookup; no grant is ever read for a refused caller.
    expect(calls.authenticate).toBe(2);
    expect(calls.grants).toEqual([]);
  });

  it("refuses '..' and '.' in any encoding, backslashes and bad escapes with 400, reading no grant", async () => {
    const { edge, calls } = setup({ 'ana@7': 'EDIT' });
    for (const bad of ['..%2F..%2Fx', '%2e%2e/x', '%252e%252e/x', 'a/./b', 'a%5Cb', '%E0%A4%A', '']) {
      const result = await edge.originRequest(
        viewer('PUT', `/api/2.0/mlflow-artifacts/artifacts/7/run1/artifacts/${bad}`, {
          authorization: 'Bearer t-ana',
          'content-length': '1',
        }),
        'r',
      );
      expect({
        bad,
        status: (result as CloudFrontResultResponse).status,
        code: bodyOf(result).error_code,
      }).toEqual({
        bad,
        status: '400',
        code: 'INVALID_PARAMETER_VALUE',
      });
    }
    expect(calls.grants).toEqual([]);
  });

  it("refuses a PUT over S3's 5 GiB with 413 naming size, limit and multipart upload, and one without a length", async () => {
    const { edge } = setup({ 'ana@7': 'EDIT' });
    const exactly = await edge.originRequest(
      viewer('PUT', FILE, { authorization: 'Bearer t-ana', 'content-length': String(5 * GiB) }),
      'r',
    );
    expect(isAnswer(exactly)).toBe(false);
    const over = await edge.originRequest(
      viewer('PUT', FILE, { authorization: 'Bearer t-ana', 'content-length': String(5 * GiB + 1) }),
      'r',
    );
    expect((over as CloudFrontResultResponse).status).toBe('413');
    expect(bodyOf(over).error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(bodyOf(over).message).toContain(
      `is ${5 * GiB + 1} bytes; a single upload is limited to ${5 * GiB} bytes`,
    );
    expect(bodyOf(over).message).toContain('MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true');
    const chunked = await edge.originRequest(
      viewer('PUT', FILE, { authorization: 'Bearer t-ana', 'transfer-encoding': 'chunked' }),
      'r',
    );
    expect((chunked as CloudFrontResultResponse).status).toBe('400');
  });

  it('answers other methods 405 with Allow, as the API does', async () => {
    const { edge } = setup({ 'ana@7': 'MANAGE' });
    const result = (await edge.originRequest(
      viewer('POST', FILE, { authorization: 'Bearer t-ana' }),
      'r',
    )) as CloudFrontResultResponse;
    expect(result.status).toBe('405');
    expect(result.headers?.allow?.[0]?.value).toBe('GET, HEAD, PUT, DELETE');
    expect(bodyOf(result).error_code).toBe('METHOD_NOT_ALLOWED');
  });
});

describe('the artifact edge: origin response', () => {
  const sent = (method: string) => viewer(method, '/artifacts/7/run1/artifacts/model/weights%20v1.bin');
  const s3 = (status: string, headers: Record<string, string> = {}) => ({
    status,
    statusDescription: 'x',
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [{ key: k, value: v }]])),
  });

  it("gives a download MLflow's headers and drops S3's own", () => {
    const answer = artifactOriginResponse(
      sent('GET'),
      s3('200', {
        'content-length': '9',
        'content-type': 'binary/octet-stream',
        'x-amz-request-id': 'R',
        etag: '"e"',
      }),
    );
    expect(answer.body).toBeUndefined();
    expect(
      Object.fromEntries(Object.entries(answer.headers ?? {}).map(([k, v]) => [k, v[0]?.value])),
    ).toEqual({
      'content-length': '9',
      'content-type': 'application/octet-stream',
      'content-disposition': `attachment; filename="weights v1.bin"; filename*=UTF-8''weights%20v1.bin`,
      'x-content-type-options': 'nosniff',
      etag: '"e"',
    });
  });

  it("answers an upload {} and S3's errors as MLflow's", () => {
    expect(artifactOriginResponse(sent('PUT'), s3('200')).body).toBe('{}');
    for (const [method, status, expected, code] of [
      ['GET', '404', '404', 'RESOURCE_DOES_NOT_EXIST'],
      ['GET', '403', '404', 'RESOURCE_DOES_NOT_EXIST'],
      ['PUT', '403', '403', 'INVALID_PARAMETER_VALUE'],
      ['GET', '503', '503', 'TEMPORARILY_UNAVAILABLE'],
      ['GET', '416', '416', 'INVALID_PARAMETER_VALUE'],
    ] as const) {
      const answer = artifactOriginResponse(sent(method), s3(status));
      expect({ method, status: answer.status, code: JSON.parse(String(answer.body)).error_code }).toEqual({
        method,
        status: expected,
        code,
      });
    }
  });
});

describe('artifact paths and keys', () => {
  it('decodes the URI once as the API does and encodes keys as S3 canonical URIs', () => {
    expect(artifactPathOf('/ajax-api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/a%20b+c')).toBe(
      '1/r/artifacts/a b+c',
    );
    expect(() => artifactPathOf('/api/2.0/mlflow/runs/get')).toThrow(/Not an artifact path/);
    expect(objectKey('', "1/r/a b!'()*ü.txt")).toBe('1/r/a%20b%21%27%28%29%2A%C3%BC.txt');
    expect(objectKey('pre/fix', 'x')).toBe('pre/fix/x');
  });
});

describe('edge configuration', () => {
  const headers = (values: Record<string, string>) =>
    Object.fromEntries(Object.entries(values).map(([k, v]) => [k, [{ key: k, value: v }]]));

  it("comes from the origin's custom headers, with MLflow's READ default and no key prefix", () => {
    expect(
      edgeConfigFrom(
        headers({
          [EDGE_CONFIG_HEADERS.region]: 'eu-west-1',
          [EDGE_CONFIG_HEADERS.accessTable]: 'Runway-Stateful-AccessTable',
          [EDGE_CONFIG_HEADERS.artifactBucket]: 'bucket',
        }),
      ),
    ).toEqual({
      region: 'eu-west-1',
      accessTable: 'Runway-Stateful-AccessTable',
      artifactBucket: 'bucket',
      keyPrefix: '',
      defaultPermission: 'READ',
    });
  });

  it('fails naming every missing or bad header, so a misrouted origin never serves unchecked', () => {
    expect(() => edgeConfigFrom(headers({ [EDGE_CONFIG_HEADERS.defaultPermission]: 'ALL' }))).toThrow(
      ConfigurationError,
    );
    expect(() => edgeConfigFrom(undefined)).toThrow(
      /x-runway-region.*x-runway-access-table.*x-runway-artifact-bucket/,
    );
  });
});
