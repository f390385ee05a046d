import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoTokenStore } from '../../shared/access/adapters/access.dynamodb-store.ts';
import { allows, type Need, PERMISSIONS, type Permission } from '../../shared/access/permissions.ts';
import { ACCESS_RULES } from '../../shared/access/policies.ts';
import { hashSecret, issueToken, parseToken } from '../../shared/access/token.ts';
import { apiEvent, lambdaContext } from '../support/api-event.ts';
import { apiOperations } from '../support/api-operations.ts';
import { EventRecorder, TEST_BUS } from '../support/event-recorder.ts';
import { type ApiHandler, unique } from '../support/handler-call.ts';
import { tableName, useEmulators } from '../support/handler-env.ts';

type Authorizer = (event: unknown) => Promise<{ isAuthorized: boolean; context?: Record<string, unknown> }>;
let tracking: ApiHandler;
let registry: ApiHandler;
let access: ApiHandler;
let deployments: ApiHandler;
let authorizer: Authorizer;
let recorder: EventRecorder;

beforeAll(async () => {
  const started = await EventRecorder.start();
  recorder = started.recorder;
  useEmulators({
    TRACKING_TABLE_NAME: tableName('TrackingTable'),
    REGISTRY_TABLE_NAME: tableName('RegistryTable'),
    DEPLOYMENTS_TABLE_NAME: tableName('DeploymentsTable'),
    SAGEMAKER_TARGET_ENABLED: 'false',
    EVENT_BUS_NAME: TEST_BUS,
    AWS_ENDPOINT_URL_EVENTBRIDGE: started.endpoint,
    // Artifacts and the model server are only ever refused here: nothing reaches the bucket.
    ARTIFACT_BUCKET_NAME: 'never-read',
    AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
  });
  tracking = (await import('../../functions/tracking-api.ts')).handler as unknown as ApiHandler;
  registry = (await import('../../functions/registry-api.ts')).handler as unknown as ApiHandler;
  access = (await import('../../functions/access-api.ts')).handler as unknown as ApiHandler;
  deployments = (await import('../../functions/deployments-api.ts')).handler as unknown as ApiHandler;
  authorizer = (await import('../../functions/authorizer.ts')).handler as unknown as Authorizer;
});

afterAll(async () => {
  await recorder.close();
});

interface Caller {
  user: string;
  admin?: boolean;
  ceiling?: Permission;
}

/** Calls the function that owns the path, as the token authorizer's context says `caller` is calling. */
async function as(caller: Caller | 'nobody', method: string, path: string, body?: unknown) {
  const event = apiEvent(method, `/api/2.0/${path}`, body);
  (event.requestContext as { authorizer?: unknown }).authorizer =
    caller === 'nobody'
      ? undefined
      : ({
          lambda: { user: caller.user, admin: caller.admin ?? false, ceiling: caller.ceiling ?? 'MANAGE' },
        } as never);
  const handler = /^runway\/endpoints/.test(path)
    ? deployments
    : /permissions\/|^runway\//.test(path)
      ? access
      : /^mlflow\/(registered-models|model-versions)\//.test(path)
        ? registry
        : tracking;
  const response = await handler(event, lambdaContext);
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the handler answered.
  const json: any = response.body ? JSON.parse(response.body) : undefined;
  return { status: response.statusCode, json };
}

type Reply = Awaited<ReturnType<typeof as>>;
const admin: Caller = { user: 'root', admin: true };

describe('the token authorizer', () => {
  async function token(
    extra: { user?: string; expiresAt?: number; revokedAt?: number; ceiling?: Permission } = {},
  ) {
    const issued = issueToken();
    await new DynamoTokenStore(tableName('AccessTable')).put({
      tokenId: issued.tokenId,
      secretHash: issued.secretHash,
      user: extra.user ?? 'ana',
      admin: false,
      ceiling: extra.ceiling ?? 'MANAGE',
      createdAt: Date.now(),
      createdBy: 'test',
      ...(extra.expiresAt ? { expiresAt: extra.expiresAt } : {}),
      ...(extra.revokedAt ? { revokedAt: extra.revokedAt } : {}),
    });
    return issued.token;
  }
  const authorize = (authorization?: string) =>
    authorizer({
      type: 'REQUEST',
      routeKey: 'ANY /api/2.0/mlflow/{proxy+}',
      headers: authorization === undefined ? {} : { authorization },
    });

  it('accepts a Bearer token and a Basic user:token, passing who is calling to the functions', async () => {
    const value = await token({ user: 'ana', ceiling: 'READ' });
    const bearer = await authorize(`Bearer ${value}`);
    expect(bearer).toEqual({
      isAuthorized: true,
      context: { user: 'ana', admin: false, ceiling: 'READ', tokenId: value.slice(4, 20) },
    });
    const basic = await authorize(`Basic ${Buffer.from(`ana:${value}`).toString('base64')}`);
    expect(basic.isAuthorized).toBe(true);
  });

  it('passes missing, wrong, malformed, expired and revoked tokens and a Basic user not the token’s as refused, saying why only', async () => {
    const good = await token({ user: 'ana' });
    const forged = `${good.slice(0, 21)}${'A'.repeat(43)}`;
    const cases: [string | undefined, string][] = [
      [undefined, 'missing'],
      [`Bearer ${forged}`, 'unknown'],
      [`Bearer ${issueToken().token}`, 'unknown'],
      ['Bearer not-a-token', 'malformed'],
      ['Token abc', 'malformed'],
      [`Basic ${Buffer.from(`eve:${good}`).toString('base64')}`, 'wrong-user'],
      [`Bearer ${await token({ expiresAt: Date.now() - 1 })}`, 'expired'],
      [`Bearer ${await token({ revokedAt: Date.now() - 1 })}`, 'revoked'],
    ];
    for (const [header, refused] of cases) {
      // API Gateway would answer its own bare 401/403 to a denial: the function answers MLflow's 401.
      expect({ header, ...(await authorize(header)) }).toEqual({
        header,
        isAuthorized: true,
        context: { refused },
      });
    }
  });

  it('answers a token from its container cache for 60 s: a revocation shows after that, not before', async () => {
    const value = await token({ user: 'cached' });
    expect((await authorize(`Bearer ${value}`)).context).toMatchObject({ user: 'cached' });
    await new DynamoTokenStore(tableName('AccessTable')).revoke(value.slice(4, 20), Date.now());
    // Same header, same container: the answer of a minute ago, without a read (the revocation delay).
    expect((await authorize(`Bearer ${value}`)).context).toMatchObject({ user: 'cached' });
    // Another header for the same token is read afresh.
    const basic = `Basic ${Buffer.from(`cached:${value}`).toString('base64')}`;
    expect((await authorize(basic)).context).toEqual({ refused: 'revoked' });
  });

  it('stores only the hash of a token', async () => {
    const created = await as(admin, 'POST', 'runway/tokens/create', { user: 'hash-check' });
    expect(created.status).toBe(200);
    const { token, token_info } = created.json;
    const stored = await new DynamoTokenStore(tableName('AccessTable')).get(token_info.token_id);
    const secret = parseToken(token)?.secret as string;
    expect(stored?.secretHash).toBe(hashSecret(secret));
    expect(JSON.stringify(stored)).not.toContain(secret);
  });
});

describe('who am I (GET runway/whoami)', () => {
  it('names the caller, as the token says, and refuses a request without credentials', async () => {
    expect((await as({ user: 'ana', ceiling: 'READ' }, 'GET', 'runway/whoami')).json).toEqual({
      user: 'ana',
      kind: 'token',
      admin: false,
      read_only: true,
    });
    expect((await as(admin, 'GET', 'runway/whoami')).json).toMatchObject({
      user: 'root',
      admin: true,
      read_only: false,
    });
    const nobody = await as('nobody', 'GET', 'runway/whoami');
    expect(nobody.status).toBe(401);
    expect(nobody.json.error_code).toBe('UNAUTHENTICATED');
  });
});

describe('tokens API', () => {
  it('lets admins create, list and revoke; users list and revoke only their own', async () => {
    const user = unique('u');
    const created = await as(admin, 'POST', 'runway/tokens/create', {
      user,
      read_only: true,
      expires_in_seconds: 3600,
      description: 'ci',
    });
    expect(created.json.token).toMatch(/^rwy_[0-9a-f]{16}_[\w-]{43}$/);
    expect(created.json.token_info).toMatchObject({ user, read_only: true, admin: false, description: 'ci' });
    const id = created.json.token_info.token_id;
    const mine = await as({ user }, 'GET', 'runway/tokens/list');
    expect(mine.json.tokens.map((t: { token_id: string }) => t.token_id)).toEqual([id]);
    expect(JSON.stringify(mine.json)).not.toContain('secret');
    expect((await as({ user }, 'POST', 'runway/tokens/create', { user })).json.error_code).toBe(
      'PERMISSION_DENIED',
    );
    expect((await as({ user: 'other' }, 'POST', 'runway/tokens/revoke', { token_id: id })).status).toBe(404);
    expect((await as({ user }, 'POST', 'runway/tokens/revoke', { token_id: id })).status).toBe(200);
    const listed = await as(admin, 'GET', 'runway/tokens/list');
    expect(
      listed.json.tokens.find((t: { token_id: string }) => t.token_id === id).revoked_at,
    ).toBeGreaterThan(0);
    const bad = await as(admin, 'POST', 'runway/tokens/create', { user, expires_in_seconds: -5 });
    expect(bad.json.error_code).toBe('INVALID_PARAMETER_VALUE');
  });
});

describe('refused credentials', () => {
  it('are 401 UNAUTHENTICATED from every function behind the token API, never a principal', async () => {
    const functions = {
      tracking,
      registry,
      access,
      deployments,
      artifacts: (await import('../../functions/artifacts-api.ts')).handler as unknown as ApiHandler,
      webhooks: (await import('../../functions/webhook-api.ts')).handler as unknown as ApiHandler,
      platform: (await import('../../functions/platform-api.ts')).handler as unknown as ApiHandler,
      modelServer: (await import('../../functions/model-server.ts')).handler as unknown as ApiHandler,
    };
    const name = unique('refused-exp');
    const requests: [keyof typeof functions, string, string, unknown?][] = [
      ['tracking', 'POST', '/api/2.0/mlflow/experiments/create', { name }],
      ['tracking', 'GET', '/api/2.0/mlflow/experiments/search?max_results=5'],
      ['registry', 'POST', '/api/2.0/mlflow/registered-models/create', { name }],
      ['access', 'POST', '/api/2.0/runway/tokens/create', { user: 'mallory', admin: true }],
      ['access', 'GET', '/api/2.0/runway/tokens/list'],
      ['deployments', 'GET', '/api/2.0/runway/endpoints'],
      ['artifacts', 'GET', '/api/2.0/mlflow-artifacts/artifacts?path=x'],
      ['webhooks', 'GET', '/api/2.0/mlflow/webhooks'],
      // Even the $default route's 404 would say which paths exist.
      ['platform', 'GET', '/api/2.0/nowhere'],
      ['modelServer', 'POST', '/endpoints/churn/invocations', { inputs: [[1]] }],
    ];
    // What a tampered or buggy context might add to a refusal: it is still a refusal.
    const contexts = [
      { refused: 'revoked' },
      { refused: 'revoked', user: 'root', admin: true, ceiling: 'MANAGE' },
    ];
    for (const [fn, method, path, body] of requests) {
      for (const lambda of contexts) {
        const event = apiEvent(method, path, body);
        (event.requestContext as { authorizer?: unknown }).authorizer = { lambda };
        if (fn === 'modelServer') event.pathParameters = { name: 'churn' };
        const response = await functions[fn](event, lambdaContext);
        expect({
          fn,
          path,
          status: response.statusCode,
          challenge: response.headers['www-authenticate'],
          body: JSON.parse(response.body),
        }).toEqual({
          fn,
          path,
          status: 401,
          challenge: 'Bearer realm="runway", Basic realm="runway"',
          body: { error_code: 'UNAUTHENTICATED', message: 'The token was revoked' },
        });
      }
    }
    // Nothing was created by the refused writes.
    const found = await as(admin, 'GET', `mlflow/experiments/get-by-name?experiment_name=${name}`);
    expect(found.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await as(admin, 'GET', `mlflow/registered-models/get?name=${name}`)).status).toBe(404);
  });
});

describe('authorization', () => {
  it('refuses a request that carries no identity (fail closed)', async () => {
    const response = await as('nobody', 'GET', 'mlflow/experiments/get?experiment_id=0');
    expect(response.status).toBe(401);
    expect(response.json).toEqual({
      error_code: 'UNAUTHENTICATED',
      message: expect.stringMatching(/^No credentials: send a Runway token as Bearer/),
    });
  });

  it('gives the creator MANAGE on experiments and registered models', async () => {
    const alice: Caller = { user: unique('alice') };
    const experimentId = (await as(alice, 'POST', 'mlflow/experiments/create', { name: unique('e') })).json
      .experiment_id;
    const grant = await as(
      alice,
      'GET',
      `mlflow/experiments/permissions/get?experiment_id=${experimentId}&username=${alice.user}`,
    );
    expect(grant.json).toEqual({
      experiment_permission: { experiment_id: experimentId, username: alice.user, permission: 'MANAGE' },
    });
    const name = unique('m');
    expect((await as(alice, 'POST', 'mlflow/registered-models/create', { name })).status).toBe(200);
    const modelGrant = await as(
      alice,
      'GET',
      `mlflow/registered-models/permissions/get?name=${name}&username=${alice.user}`,
    );
    expect(modelGrant.json.registered_model_permission.permission).toBe('MANAGE');
  });

  it("moves a model's grants with its name and drops them when it is deleted", async () => {
    const alice: Caller = { user: unique('alice') };
    const bob: Caller = { user: unique('bob') };
    const name = unique('named');
    await as(alice, 'POST', 'mlflow/registered-models/create', { name });
    const renamed = `${name}-v2`;
    expect(
      (await as(alice, 'POST', 'mlflow/registered-models/rename', { name, new_name: renamed })).status,
    ).toBe(200);
    const moved = await as(
      alice,
      'GET',
      `mlflow/registered-models/permissions/get?name=${renamed}&username=${alice.user}`,
    );
    expect(moved.json.registered_model_permission?.permission).toBe('MANAGE');
    expect(
      (await as(admin, 'GET', `mlflow/registered-models/permissions/get?name=${name}&username=${alice.user}`))
        .status,
    ).toBe(404);
    expect((await as(alice, 'DELETE', 'mlflow/registered-models/delete', { name: renamed })).status).toBe(
      200,
    );
    // Bob registers the freed name: Alice's old MANAGE must not carry over to his model.
    expect((await as(bob, 'POST', 'mlflow/registered-models/create', { name: renamed })).status).toBe(200);
    const aliceTries = await as(alice, 'DELETE', 'mlflow/registered-models/delete', { name: renamed });
    expect(aliceTries.json.error_code).toBe('PERMISSION_DENIED');
  });

  it("needs READ on a logged model's experiment to register it (its files become the version's)", async () => {
    const alice: Caller = { user: unique('alice') };
    const bob: Caller = { user: unique('bob') };
    const experimentId = (await as(alice, 'POST', 'mlflow/experiments/create', { name: unique('private') }))
      .json.experiment_id;
    const modelId = (await as(alice, 'POST', 'mlflow/logged-models', { experiment_id: experimentId })).json
      .model.info.model_id;
    await as(alice, 'POST', 'mlflow/experiments/permissions/create', {
      experiment_id: experimentId,
      username: bob.user,
      permission: 'NO_PERMISSIONS',
    });
    const name = unique('bobs');
    expect((await as(bob, 'POST', 'mlflow/registered-models/create', { name })).status).toBe(200);
    for (const body of [
      { name, source: `models:/${modelId}`, model_id: modelId },
      { name, source: `models:/${modelId}` },
      { name, source: 's3://bucket/model', model_id: modelId },
    ]) {
      const refused = await as(bob, 'POST', 'mlflow/model-versions/create', body);
      expect(refused.status, JSON.stringify(body)).toBe(403);
      expect(refused.json.message).toContain(`experiment ${experimentId}`);
    }
    expect(
      (await as(bob, 'GET', `mlflow/registered-models/get?name=${name}`)).json.registered_model,
    ).not.toHaveProperty('latest_versions');
    // USE (MLflow 3) reads, so once Alice grants it Bob may register her model (but not manage her grants).
    await as(alice, 'PATCH', 'mlflow/experiments/permissions/update', {
      experiment_id: experimentId,
      username: bob.user,
      permission: 'USE',
    });
    const created = await as(bob, 'POST', 'mlflow/model-versions/create', {
      name,
      source: `models:/${modelId}`,
      model_id: modelId,
    });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    expect(
      (
        await as(
          bob,
          'GET',
          `mlflow/experiments/permissions/get?experiment_id=${experimentId}&username=${bob.user}`,
        )
      ).status,
    ).toBe(403);
  });

  /** One endpoint per need and resource kind, destructive ones last: a row of the matrix shares its resources. */
  const ENDPOINTS: Array<{
    need: Need;
    label: string;
    run: (
      who: Caller,
      r: { experimentId: string; runId: string; model: string; endpoint: string },
    ) => Promise<Reply>;
  }> = [
    {
      need: 'read',
      label: 'experiments/get',
      run: (who, r) => as(who, 'GET', `mlflow/experiments/get?experiment_id=${r.experimentId}`),
    },
    { need: 'read', label: 'runs/get', run: (who, r) => as(who, 'GET', `mlflow/runs/get?run_id=${r.runId}`) },
    {
      need: 'update',
      label: 'runs/log-metric',
      run: (who, r) =>
        as(who, 'POST', 'mlflow/runs/log-metric', { run_id: r.runId, key: 'm', value: 1, timestamp: 1 }),
    },
    {
      need: 'update',
      label: 'experiments/set-experiment-tag',
      run: (who, r) =>
        as(who, 'POST', 'mlflow/experiments/set-experiment-tag', {
          experiment_id: r.experimentId,
          key: 'k',
          value: 'v',
        }),
    },
    {
      need: 'manage',
      label: 'experiments/permissions/create',
      run: (who, r) =>
        as(who, 'POST', 'mlflow/experiments/permissions/create', {
          experiment_id: r.experimentId,
          username: unique('x'),
          permission: 'READ',
        }),
    },
    {
      need: 'read',
      label: 'registered-models/get',
      run: (who, r) => as(who, 'GET', `mlflow/registered-models/get?name=${r.model}`),
    },
    {
      need: 'update',
      label: 'registered-models/set-tag',
      run: (who, r) =>
        as(who, 'POST', 'mlflow/registered-models/set-tag', { name: r.model, key: 'k', value: 'v' }),
    },
    {
      need: 'manage',
      label: 'registered-models/permissions/get',
      run: (who, r) =>
        as(who, 'GET', `mlflow/registered-models/permissions/get?name=${r.model}&username=${who.user}`),
    },
    // Endpoints belong to their registered model.
    {
      need: 'read',
      label: 'runway/endpoints/{name}',
      run: (who, r) => as(who, 'GET', `runway/endpoints/${r.endpoint}`),
    },
    {
      need: 'read',
      label: 'runway/endpoints/{name}/deployments',
      run: (who, r) => as(who, 'GET', `runway/endpoints/${r.endpoint}/deployments`),
    },
    {
      need: 'update',
      label: 'runway/endpoints (create)',
      run: (who, r) =>
        as(who, 'POST', 'runway/endpoints', {
          name: unique('ep'),
          model_name: r.model,
          follows: { alias: 'production' },
        }),
    },
    {
      need: 'update',
      label: 'PATCH runway/endpoints/{name}',
      run: (who, r) => as(who, 'PATCH', `runway/endpoints/${r.endpoint}`, { description: 'changed' }),
    },
    {
      need: 'delete',
      label: 'DELETE runway/endpoints/{name}',
      run: (who, r) => as(who, 'DELETE', `runway/endpoints/${r.endpoint}`),
    },
    {
      need: 'delete',
      label: 'runs/delete',
      run: (who, r) => as(who, 'POST', 'mlflow/runs/delete', { run_id: r.runId }),
    },
    {
      need: 'delete',
      label: 'registered-models/delete',
      run: (who, r) => as(who, 'DELETE', 'mlflow/registered-models/delete', { name: r.model }),
    },
  ];

  async function resourcesOwnedBy(owner: Caller, grantee: string, permission: Permission | undefined) {
    const experimentId = (await as(owner, 'POST', 'mlflow/experiments/create', { name: unique('mx') })).json
      .experiment_id;
    const runId = (await as(owner, 'POST', 'mlflow/runs/create', { experiment_id: experimentId })).json.run
      .info.run_id;
    const model = unique('mm');
    await as(owner, 'POST', 'mlflow/registered-models/create', { name: model });
    const endpoint = unique('ep');
    const created = await as(owner, 'POST', 'runway/endpoints', {
      name: endpoint,
      model_name: model,
      follows: { alias: 'production' },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    if (permission) {
      await as(owner, 'POST', 'mlflow/experiments/permissions/create', {
        experiment_id: experimentId,
        username: grantee,
        permission,
      });
      await as(owner, 'POST', 'mlflow/registered-models/permissions/create', {
        name: model,
        username: grantee,
        permission,
      });
    }
    return { experimentId, runId, model, endpoint };
  }

  it('follows MLflow 3.11’s permission matrix: READ and USE read, EDIT updates, MANAGE deletes and manages; the default is READ', async () => {
    const owner: Caller = { user: unique('owner') };
    const rows: string[] = [];
    for (const permission of [undefined, ...PERMISSIONS]) {
      const grantee: Caller = { user: unique('bob') };
      const resources = await resourcesOwnedBy(owner, grantee.user, permission);
      for (const endpoint of ENDPOINTS) {
        const response = await endpoint.run(grantee, resources);
        const effective = permission ?? 'READ';
        const allowed = allows(effective, endpoint.need);
        const outcome =
          response.status === 403
            ? 'denied'
            : response.status < 300
              ? 'allowed'
              : `status ${response.status}`;
        rows.push(`${permission ?? '(default)'} ${endpoint.label}: ${outcome}`);
        expect(`${permission ?? '(default)'} ${endpoint.label}: ${outcome}`).toBe(
          `${permission ?? '(default)'} ${endpoint.label}: ${allowed ? 'allowed' : 'denied'}`,
        );
        if (!allowed) expect(response.json.error_code).toBe('PERMISSION_DENIED');
      }
    }
    expect(rows).toHaveLength((1 + PERMISSIONS.length) * ENDPOINTS.length);
    expect(PERMISSIONS).toContain('USE');
  });

  it('caps a read-only token at READ whatever its user’s grants, and admins pass every check', async () => {
    const owner: Caller = { user: unique('owner') };
    const reader: Caller = { user: unique('reader'), ceiling: 'READ' };
    const resources = await resourcesOwnedBy(owner, reader.user, 'MANAGE');
    for (const endpoint of ENDPOINTS) {
      const response = await endpoint.run(reader, resources);
      expect({ endpoint: endpoint.label, denied: response.status === 403 }).toEqual({
        endpoint: endpoint.label,
        denied: endpoint.need !== 'read',
      });
    }
    const created = await as(reader, 'POST', 'mlflow/experiments/create', { name: unique('ro') });
    expect(created.json.error_code).toBe('PERMISSION_DENIED');
    const other = await resourcesOwnedBy(owner, 'nobody-else', undefined);
    for (const endpoint of ENDPOINTS) {
      expect((await endpoint.run(admin, other)).status).not.toBe(403);
    }
  });

  it('shows in searches only what the caller may read, with exact paging', async () => {
    const owner: Caller = { user: unique('owner') };
    const viewer: Caller = { user: unique('viewer') };
    const prefix = unique('filtered');
    const visible: string[] = [];
    for (let i = 0; i < 7; i++) {
      const id = (await as(owner, 'POST', 'mlflow/experiments/create', { name: `${prefix}-${i}` })).json
        .experiment_id;
      if (i % 3 === 0) visible.push(id);
      else
        await as(owner, 'POST', 'mlflow/experiments/permissions/create', {
          experiment_id: id,
          username: viewer.user,
          permission: 'NO_PERMISSIONS',
        });
    }
    const seen: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const page = await as(viewer, 'POST', 'mlflow/experiments/search', {
        max_results: 2,
        filter: `name LIKE '${prefix}-%'`,
        ...(pageToken ? { page_token: pageToken } : {}),
      });
      expect(page.status).toBe(200);
      const ids = (page.json.experiments ?? []).map((e: { experiment_id: string }) => e.experiment_id);
      expect(ids.length).toBeLessThanOrEqual(2);
      seen.push(...ids);
      pageToken = page.json.next_page_token;
      pages++;
    } while (pageToken && pages < 10);
    expect(seen.sort()).toEqual([...visible].sort());
    const all = await as(owner, 'POST', 'mlflow/experiments/search', {
      max_results: 100,
      filter: `name LIKE '${prefix}-%'`,
    });
    expect(all.json.experiments).toHaveLength(7);
  });

  it('lists only the endpoints of models the caller may read, with exact paging', async () => {
    const owner: Caller = { user: unique('owner') };
    const viewer: Caller = { user: unique('viewer') };
    const visible: string[] = [];
    const all: string[] = [];
    for (let i = 0; i < 3; i++) {
      const model = unique('lm');
      await as(owner, 'POST', 'mlflow/registered-models/create', { name: model });
      if (i === 1) {
        await as(owner, 'POST', 'mlflow/registered-models/permissions/create', {
          name: model,
          username: viewer.user,
          permission: 'NO_PERMISSIONS',
        });
      }
      for (let j = 0; j < 3; j++) {
        const name = unique('lep');
        const created = await as(owner, 'POST', 'runway/endpoints', {
          name,
          model_name: model,
          follows: { alias: 'production' },
        });
        expect(created.status).toBe(200);
        all.push(name);
        if (i !== 1) visible.push(name);
      }
    }
    // Other tests' endpoints share the listing: only this test's count.
    const mine = (names: string[]) => names.filter((name) => all.includes(name));
    const seen: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const query = `max_results=2${pageToken ? `&page_token=${encodeURIComponent(pageToken)}` : ''}`;
      const page = await as(viewer, 'GET', `runway/endpoints?${query}`);
      expect(page.status).toBe(200);
      const names = (page.json.endpoints ?? []).map((e: { name: string }) => e.name);
      expect(names.length).toBeLessThanOrEqual(2);
      if (page.json.next_page_token) expect(names).toHaveLength(2);
      seen.push(...names);
      pageToken = page.json.next_page_token;
      pages++;
    } while (pageToken && pages < 1000);
    expect(mine(seen).sort()).toEqual([...visible].sort());
    expect(new Set(seen).size).toBe(seen.length);
    // Asking for the hidden model's endpoints by name finds nothing; its owner sees them.
    const hiddenModel = (await as(owner, 'GET', `runway/endpoints/${all[3]}`)).json.endpoint.model_name;
    const filtered = await as(viewer, 'GET', `runway/endpoints?model_name=${hiddenModel}`);
    expect(filtered).toEqual({ status: 200, json: {} });
    const owned = await as(owner, 'GET', `runway/endpoints?model_name=${hiddenModel}`);
    expect(owned.json.endpoints).toHaveLength(3);
  });

  it('deploys with EDIT on the model, and checks EDIT on any model a PATCH names', async () => {
    const owner: Caller = { user: unique('owner') };
    const editor: Caller = { user: unique('editor') };
    const models: string[] = [];
    for (const permission of ['EDIT', 'READ'] as const) {
      const model = unique('dm');
      await as(owner, 'POST', 'mlflow/registered-models/create', { name: model });
      await as(owner, 'POST', 'mlflow/model-versions/create', { name: model, source: 's3://b/m' });
      await as(owner, 'POST', 'mlflow/registered-models/permissions/create', {
        name: model,
        username: editor.user,
        permission,
      });
      models.push(model);
    }
    const [editable, readable] = models as [string, string];
    const endpointOf = async (model: string) => {
      const name = unique('dep');
      await as(owner, 'POST', 'runway/endpoints', {
        name,
        model_name: model,
        follows: { alias: 'production' },
      });
      return name;
    };
    const onEditable = await endpointOf(editable);
    const onReadable = await endpointOf(readable);
    // EDIT passes the check: the deploy itself answers 501 until the deploy state machine exists.
    const deploy = await as(editor, 'POST', `runway/endpoints/${onEditable}/deploy`, { version: '1' });
    expect(deploy.json.error_code).not.toBe('PERMISSION_DENIED');
    expect(deploy.status).not.toBe(403);
    const refused = await as(editor, 'POST', `runway/endpoints/${onReadable}/deploy`, { version: '1' });
    expect(refused.status).toBe(403);
    expect(refused.json.message).toContain(`registered model '${readable}'`);
    // A PATCH naming a model needs EDIT on it as well (the service then refuses a change of model).
    const toReadable = await as(editor, 'PATCH', `runway/endpoints/${onEditable}`, { model_name: readable });
    expect(toReadable.status).toBe(403);
    const fromReadable = await as(editor, 'PATCH', `runway/endpoints/${onReadable}`, {
      model_name: editable,
    });
    expect(fromReadable.status).toBe(403);
    const reader: Caller = { user: editor.user, ceiling: 'READ' };
    expect((await as(reader, 'GET', `runway/endpoints/${onEditable}`)).status).toBe(200);
    expect((await as(reader, 'PATCH', `runway/endpoints/${onEditable}`, { description: 'x' })).status).toBe(
      403,
    );
    // An endpoint that does not exist is 404 whoever asks.
    const ghost = await as(editor, 'DELETE', `runway/endpoints/${unique('ghost')}`);
    expect(ghost.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await as('nobody', 'GET', 'runway/endpoints')).status).toBe(401);
  });

  it('declares an access rule for every operation of every API function', async () => {
    const env = { ...process.env, ARTIFACT_BUCKET_NAME: process.env.ARTIFACT_BUCKET_NAME ?? 'bucket' };
    const operations = Object.values(await apiOperations(env)).flat();
    const undeclared = operations.map((op) => `${op.method} ${op.path}`).filter((key) => !ACCESS_RULES[key]);
    expect(undeclared).toEqual([]);
    expect(operations.length).toBeGreaterThan(100);
    expect(operations.map((op) => `${op.method} ${op.path}`)).toContain(
      'POST runway/endpoints/{name}/deploy',
    );
  });
});
