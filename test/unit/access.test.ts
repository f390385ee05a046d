import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { allows, lower, PERMISSIONS } from '../../shared/access/permissions.ts';
import {
  assertNotRefused,
  iamPrincipalName,
  principalFromContext,
  refusedContext,
} from '../../shared/access/principal.ts';
import {
  hashSecret,
  issueToken,
  parseToken,
  readAuthorization,
  secretMatches,
} from '../../shared/access/token.ts';
import { UnauthenticatedError } from '../../shared/platform/errors.ts';
import { errorResponse } from '../../shared/platform/http/error-response.ts';
import { parseQueryString } from '../../shared/platform/http/http-request.ts';
import { defineOperation } from '../../shared/platform/http/operation.ts';
import { Router } from '../../shared/platform/http/router.ts';

describe('permissions', () => {
  it("are MLflow 3.11's: READ and USE read, EDIT also updates, MANAGE also deletes and manages, NO_PERMISSIONS nothing", () => {
    const table = Object.fromEntries(
      PERMISSIONS.map((p) => [
        p,
        (['read', 'update', 'delete', 'manage'] as const).filter((need) => allows(p, need)),
      ]),
    );
    expect(table).toEqual({
      NO_PERMISSIONS: [],
      READ: ['read'],
      USE: ['read'],
      EDIT: ['read', 'update'],
      MANAGE: ['read', 'update', 'delete', 'manage'],
    });
    expect(lower('MANAGE', 'READ')).toBe('READ');
    expect(lower('USE', 'READ')).toBe('READ');
    expect(lower('EDIT', 'USE')).toBe('USE');
    expect(lower('NO_PERMISSIONS', 'MANAGE')).toBe('NO_PERMISSIONS');
  });
});

describe('tokens', () => {
  it('issues rwy_<id>_<secret> tokens whose secret only matches its own hash', () => {
    const a = issueToken();
    const b = issueToken();
    expect(a.token).toMatch(/^rwy_[0-9a-f]{16}_[\w-]{43}$/);
    expect(a.tokenId).not.toBe(b.tokenId);
    const parsed = parseToken(a.token);
    expect(parsed?.tokenId).toBe(a.tokenId);
    expect(secretMatches(parsed?.secret ?? '', a.secretHash)).toBe(true);
    expect(secretMatches(parseToken(b.token)?.secret ?? '', a.secretHash)).toBe(false);
    expect(a.secretHash).toBe(hashSecret(parsed?.secret ?? ''));
    expect(a.secretHash).not.toContain(parsed?.secret);
    for (const bad of ['', 'rwy_', `rwy_${a.tokenId}_short`, `xyz_${a.tokenId}_${'a'.repeat(43)}`]) {
      expect(parseToken(bad)).toBeUndefined();
    }
  });

  it('reads Bearer and Basic credentials as the MLflow client sends them', () => {
    expect(readAuthorization(undefined)).toEqual({ scheme: 'none' });
    expect(readAuthorization('Bearer abc')).toEqual({ scheme: 'bearer', token: 'abc' });
    expect(readAuthorization(`Basic ${Buffer.from('ana:rwy_x:y').toString('base64')}`)).toEqual({
      scheme: 'basic',
      user: 'ana',
      token: 'rwy_x:y',
    });
    for (const bad of ['Bearer', 'Digest abc', `Basic ${Buffer.from('no-colon').toString('base64')}`]) {
      expect(readAuthorization(bad).scheme).toBe('malformed');
    }
  });
});

describe('principals', () => {
  it('come from the token authorizer context or the IAM caller, admins by ARN; none fails closed', () => {
    const admins = ['arn:aws:iam::1:role/Platform', 'arn:aws:iam::1:user/ops-*'];
    expect(
      principalFromContext(
        { authorizer: { lambda: { user: 'ana', admin: 'false', ceiling: 'READ' } } },
        admins,
      ),
    ).toEqual({ name: 'ana', kind: 'token', admin: false, ceiling: 'READ' });
    const role = principalFromContext(
      { authorizer: { iam: { userArn: 'arn:aws:sts::1:assumed-role/Platform/session-42' } } },
      admins,
    );
    expect(role).toEqual({
      name: 'arn:aws:iam::1:role/Platform',
      kind: 'iam',
      admin: true,
      ceiling: 'MANAGE',
    });
    expect(
      principalFromContext({ authorizer: { iam: { userArn: 'arn:aws:iam::1:user/ops-ana' } } }, admins)
        ?.admin,
    ).toBe(true);
    expect(
      principalFromContext({ authorizer: { iam: { userArn: 'arn:aws:iam::1:user/ana' } } }, admins)?.admin,
    ).toBe(false);
    expect(principalFromContext({}, admins)).toBeUndefined();
    expect(principalFromContext({ authorizer: { lambda: { user: '' } } }, admins)).toBeUndefined();
    expect(iamPrincipalName('arn:aws:iam::1:user/x')).toBe('arn:aws:iam::1:user/x');
  });
});

describe('refused credentials', () => {
  const refusal = (lambda: Record<string, unknown>) => {
    try {
      assertNotRefused({ authorizer: { lambda } });
    } catch (error) {
      return error;
    }
    return undefined;
  };

  it('never become a principal, whatever else the context holds', () => {
    for (const lambda of [
      refusedContext('revoked'),
      { refused: 'expired', user: 'root', admin: true, ceiling: 'MANAGE' },
      { refused: undefined, user: 'root' },
      { refused: 42, user: 'root' },
    ]) {
      expect(
        principalFromContext({ authorizer: { lambda, iam: { userArn: 'arn:aws:iam::1:role/Platform' } } }, [
          'arn:aws:iam::1:role/Platform',
        ]),
      ).toBeUndefined();
      expect(refusal(lambda)).toBeInstanceOf(UnauthenticatedError);
    }
  });

  it('are 401 UNAUTHENTICATED saying why, in MLflow’s shape, with the challenge MLflow clients answer', () => {
    const answers = (
      ['missing', 'malformed', 'unknown', 'expired', 'revoked', 'wrong-user', 'unheard-of'] as const
    ).map((reason) => {
      const response = errorResponse(refusal({ refused: reason }), 'r');
      return {
        status: response.statusCode,
        challenge: response.headers['www-authenticate'],
        ...JSON.parse(response.body),
      };
    });
    const challenge = 'Bearer realm="runway", Basic realm="runway"';
    expect(answers.map((a) => ({ ...a, message: undefined }))).toEqual(
      answers.map(() => ({ status: 401, challenge, error_code: 'UNAUTHENTICATED', message: undefined })),
    );
    expect(answers.map((a) => a.message)).toEqual([
      expect.stringMatching(/^No credentials: send a Runway token as Bearer or as the Basic password/),
      expect.stringContaining('is not a Runway token'),
      expect.stringContaining('The token is not valid'),
      'The token has expired',
      'The token was revoked',
      "The Basic user name is not the token's user",
      'The credentials were refused',
    ]);
    // A context without a refusal passes, whoever it names.
    expect(refusal({ user: 'ana' })).toBeUndefined();
    expect(refusal({})).toBeUndefined();
  });
});

describe('HTTP hardening found by the fuzz suite', () => {
  const router = new Router([
    defineOperation({
      method: 'POST',
      path: 'mlflow/things/create',
      input: z.object({}).passthrough(),
      handle: (i) => i,
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/things/get',
      input: z.object({}).passthrough(),
      handle: (i) => i,
    }),
  ]);
  const request = (method: string, path: string, body?: string) => ({
    method,
    path: path.split('?')[0] as string,
    query: parseQueryString(path.split('?')[1] ?? ''),
    headers: { 'content-type': 'application/json' },
    body,
    requestId: 'r',
    pathParameters: {},
  });

  it('answers a body nested deeper than 100 levels 400, at any depth without overflowing the stack', async () => {
    const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    await expect(
      router.dispatch(request('POST', '/api/2.0/mlflow/things/create', deep(99))),
    ).resolves.toBeDefined();
    for (const depth of [101, 100_000]) {
      await expect(
        router.dispatch(request('POST', '/api/2.0/mlflow/things/create', deep(depth))),
      ).rejects.toThrow(/nested deeper than 100 levels/);
    }
  });

  it('takes __proto__, toString and valueOf as ordinary query argument names', async () => {
    const query = parseQueryString('__proto__=1&toString=2&valueOf=3&valueOf=4');
    expect(Object.entries(query)).toEqual([
      ['__proto__', ['1']],
      ['toString', ['2']],
      ['valueOf', ['3', '4']],
    ]);
    const result = (await router.dispatch(
      request('GET', '/api/2.0/mlflow/things/get?__proto__=x&toString=y'),
    )) as object;
    expect(Object.getPrototypeOf(result)).not.toBe('x');
  });

  it("answers DynamoDB's refusal of an over-long key 400, not 500", () => {
    const error = Object.assign(
      new Error(
        'One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes',
      ),
      {
        name: 'ValidationException',
      },
    );
    expect(errorResponse(error, 'r').statusCode).toBe(400);
    const other = Object.assign(new Error('Invalid UpdateExpression'), { name: 'ValidationException' });
    expect(errorResponse(other, 'r').statusCode).toBe(500);
  });
});

describe('AccessControl', () => {
  const unreachable = () => {
    throw new Error('no read expected');
  };
  const control = async () => {
    const { AccessControl } = await import('../../shared/access/access-control.ts');
    return new AccessControl({
      grants: {
        get: unreachable,
        put: unreachable,
        delete: unreachable,
        listForResource: unreachable,
      } as never,
      locator: {
        experimentOfRun: async () => '7',
        experimentOfLoggedModel: unreachable,
        modelOfEndpoint: unreachable,
        modelOfMonitor: unreachable,
      } as never,
    });
  };
  const onRun = (need: 'read' | 'update') =>
    ({ kind: 'resources', need, resources: () => [{ kind: 'run', id: 'r1' }] }) as never;

  it("lets an admin through a run's check without reading anything (no lookup of its experiment)", async () => {
    const access = await control();
    const admin = { name: 'root', kind: 'iam', admin: true, ceiling: 'MANAGE' } as const;
    await expect(access.authorize(admin, onRun('update'), { run_id: 'r1' })).resolves.toBeUndefined();
  });

  it('still reads the grant of a user who is not an admin', async () => {
    const access = await control();
    const user = { name: 'ana', kind: 'token', admin: false, ceiling: 'MANAGE' } as const;
    await expect(access.authorize(user, onRun('read'), { run_id: 'r1' })).rejects.toThrow('no read expected');
  });
});
