import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEventV2, CloudFrontRequestEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoGrantStore, DynamoTokenStore } from '../../shared/access/adapters/access.dynamodb-store.ts';
import type { Permission } from '../../shared/access/permissions.ts';
import { TokenService } from '../../shared/access/token.service.ts';
import { EDGE_CONFIG_HEADERS } from '../../shared/tracking/artifacts/edge/edge-config.ts';
import { apiEvent, lambdaContext } from '../support/api-event.ts';
import { emulatorDocumentClient, tableName, useEmulators } from '../support/handler-env.ts';

/**
 * "A user without EDIT on the experiment cannot upload by any route": every way a file can reach the
 * artifact bucket, for token and IAM callers. The API's routes (IAM API and token API alike: an
 * inline PUT, a multipart upload's create, complete and abort) and the public URL's edge path (one
 * PUT of any size, token callers only; SigV4 is refused there). Refusals happen before storage is
 * touched: the bucket configured here does not exist, so anything that reached it would fail
 * otherwise than with 401/403.
 */

type ApiHandler = (
  event: APIGatewayProxyEventV2,
  context: typeof lambdaContext,
) => Promise<{ statusCode: number; body: string; headers?: Record<string, string> }>;
type EdgeHandler = (
  event: CloudFrontRequestEvent,
) => Promise<{ status?: string; body?: string; uri?: string }>;

let api: ApiHandler;
let edge: EdgeHandler;
let grants: DynamoGrantStore;
let tokens: TokenService;
const BUCKET = 'never-reached';
const experiment = String(900_000 + Math.floor(Math.random() * 99_999));
const runDir = `${experiment}/${randomBytes(16).toString('hex')}/artifacts`;

beforeAll(async () => {
  useEmulators({
    TRACKING_TABLE_NAME: tableName('TrackingTable'),
    ARTIFACT_BUCKET_NAME: BUCKET,
    AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
  });
  const client = emulatorDocumentClient();
  grants = new DynamoGrantStore(tableName('AccessTable'), client);
  tokens = new TokenService(new DynamoTokenStore(tableName('AccessTable'), client));
  api = (await import('../../functions/artifacts-api.ts')).handler as unknown as ApiHandler;
  edge = (await import('../../functions/artifact-edge.ts')).handler as unknown as EdgeHandler;
});

type Caller = { iam: string } | { token: string; user: string };

async function newTokenUser(
  options: { readOnly?: boolean } = {},
): Promise<Caller & { token: string; user: string }> {
  const user = `u${randomBytes(4).toString('hex')}`;
  const { token } = await tokens.create(
    { user, ...(options.readOnly ? { readOnly: true } : {}) },
    { name: 'test', kind: 'token', admin: true, ceiling: 'MANAGE' },
  );
  return { token, user };
}

const grant = (user: string, permission: Permission) =>
  grants.put({ kind: 'experiment', resource: experiment, user, permission });

/** Calls the artifacts function as API Gateway would for `caller` (IAM: its ARN; token: the authorizer's context). */
async function viaApi(caller: Caller, method: string, path: string, body?: unknown) {
  const event = apiEvent(method, `/api/2.0/${path}`, body);
  (event.requestContext as { authorizer?: unknown }).authorizer =
    'iam' in caller
      ? { iam: { userArn: caller.iam } }
      : { lambda: { user: caller.user, admin: false, ceiling: 'MANAGE' } };
  const response = await api(event, lambdaContext);
  return { status: response.statusCode, json: JSON.parse(response.body || '{}') };
}

/** Every upload route of the API, for one file. */
const API_UPLOADS = (name: string) =>
  [
    ['PUT', `mlflow-artifacts/artifacts/${runDir}/${name}`, 'inline'],
    ['POST', `mlflow-artifacts/mpu/create/${runDir}`, { path: `/tmp/${name}`, num_parts: 2 }],
    [
      'POST',
      `mlflow-artifacts/mpu/complete/${runDir}`,
      { path: `/tmp/${name}`, upload_id: 'u-1', parts: [{ part_number: 1, etag: '"e"' }] },
    ],
    ['POST', `mlflow-artifacts/mpu/abort/${runDir}`, { path: `/tmp/${name}`, upload_id: 'u-1' }],
  ] as const;

/** One PUT at the public URL: the distribution's origin-request event for the edge function. */
async function viaEdge(authorization: string | undefined, name: string) {
  const event = {
    Records: [
      {
        cf: {
          config: {
            distributionDomainName: 'd.cloudfront.net',
            distributionId: 'E1',
            eventType: 'origin-request',
            requestId: 'r',
          },
          request: {
            clientIp: '203.0.113.1',
            method: 'PUT',
            uri: `/api/2.0/mlflow-artifacts/artifacts/${runDir}/${name}`,
            querystring: '',
            headers: {
              'content-length': [{ key: 'Content-Length', value: String(300 * 1024 * 1024) }],
              ...(authorization ? { authorization: [{ key: 'Authorization', value: authorization }] } : {}),
            },
            origin: {
              s3: {
                authMethod: 'origin-access-identity',
                domainName: `${BUCKET}.s3.us-east-1.amazonaws.com`,
                path: '',
                region: 'us-east-1',
                customHeaders: Object.fromEntries(
                  [
                    [EDGE_CONFIG_HEADERS.region, 'us-east-1'],
                    [EDGE_CONFIG_HEADERS.accessTable, tableName('AccessTable')],
                    [EDGE_CONFIG_HEADERS.artifactBucket, BUCKET],
                  ].map(([k, v]) => [k, [{ key: k, value: v }]]),
                ),
              },
            },
          },
        },
      },
    ],
  } as unknown as CloudFrontRequestEvent;
  const result = await edge(event);
  return {
    status: result.status ?? 'forwarded',
    json: result.body ? JSON.parse(result.body) : undefined,
    uri: result.uri,
  };
}

describe('a user without EDIT on the experiment uploads by no route', () => {
  it('refuses IAM callers without EDIT on every API upload route (default READ, and a READ grant), allows EDIT', async () => {
    const iamReader: Caller = {
      iam: `arn:aws:iam::123456789012:role/reader-${randomBytes(3).toString('hex')}`,
    };
    const iamGranted: Caller = {
      iam: `arn:aws:iam::123456789012:role/granted-${randomBytes(3).toString('hex')}`,
    };
    await grant((iamGranted as { iam: string }).iam, 'READ');
    for (const caller of [iamReader, iamGranted]) {
      for (const [method, path, body] of API_UPLOADS('iam.bin')) {
        const response = await viaApi(caller, method, path, body);
        expect({ path, status: response.status, code: response.json.error_code }).toEqual({
          path,
          status: 403,
          code: 'PERMISSION_DENIED',
        });
      }
    }
    // EDIT passes the access check (and then meets the missing bucket: not a refusal).
    await grant((iamGranted as { iam: string }).iam, 'EDIT');
    const allowed = await viaApi(iamGranted, 'PUT', `mlflow-artifacts/artifacts/${runDir}/ok.bin`, 'x');
    expect(allowed.status).not.toBe(403);
  });

  it('refuses token users without EDIT on every API upload route and at the edge, before storage', async () => {
    const reader = await newTokenUser();
    await grant(reader.user, 'READ');
    for (const [method, path, body] of API_UPLOADS('token.bin')) {
      expect((await viaApi(reader, method, path, body)).status).toBe(403);
    }
    const atEdge = await viaEdge(`Bearer ${reader.token}`, 'token.bin');
    expect(atEdge).toEqual({
      status: '403',
      json: {
        error_code: 'PERMISSION_DENIED',
        message: `Permission denied: '${reader.user}' may not update experiment ${experiment}`,
      },
      uri: undefined,
    });
  });

  it('caps a read-only token at READ at the edge even with MANAGE, and forwards an EDIT holder to the bucket key', async () => {
    const readOnly = await newTokenUser({ readOnly: true });
    await grant(readOnly.user, 'MANAGE');
    expect((await viaEdge(`Bearer ${readOnly.token}`, 'ro.bin')).status).toBe('403');
    const editor = await newTokenUser();
    await grant(editor.user, 'EDIT');
    expect(await viaEdge(`Bearer ${editor.token}`, 'model.bin')).toEqual({
      status: 'forwarded',
      json: undefined,
      uri: `/${runDir}/model.bin`,
    });
  });

  it('refuses SigV4 (IAM) and missing credentials at the edge with 401: IAM callers upload through the IAM API only', async () => {
    const sigv4 =
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/eu-west-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=00';
    const signed = await viaEdge(sigv4, 'iam.bin');
    expect(signed.status).toBe('401');
    expect(signed.json.message).toContain('IAM API URL');
    expect((await viaEdge(undefined, 'anon.bin')).json.error_code).toBe('UNAUTHENTICATED');
  });
});
