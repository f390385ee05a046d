import { describe, expect, it } from 'vitest';
import { AccessControl } from '../../shared/access/access-control.ts';
import type { Principal } from '../../shared/access/model.ts';
import type { Permission } from '../../shared/access/permissions.ts';
import type { GrantStore } from '../../shared/access/ports.ts';
import { INVOCATION_GRANT_CACHE_MS, InvocationAccess } from '../../shared/serving/invocation-access.ts';

/** A grant store that answers `get` from a map and counts the reads; nothing else is called. */
function grantsOf(grants: Map<string, Permission>, failing = { next: false }) {
  const reads: string[] = [];
  const store = {
    get: async (_kind: string, resource: string, user: string) => {
      reads.push(`${user}@${resource}`);
      if (failing.next) {
        failing.next = false;
        throw new Error('throttled');
      }
      return grants.get(`${user}@${resource}`);
    },
  } as unknown as GrantStore;
  return { store, reads };
}

const token = (name: string, ceiling: Permission = 'MANAGE'): Principal => ({
  name,
  kind: 'token',
  admin: false,
  ceiling,
});

function setup(grants: Map<string, Permission>, defaultPermission: Permission = 'READ') {
  const failing = { next: false };
  const { store, reads } = grantsOf(grants, failing);
  const clock = { now: 0 };
  const access = new InvocationAccess({
    access: new AccessControl({
      grants: store,
      locator: {} as never,
      defaultPermission,
    }),
    now: () => clock.now,
  });
  return { access, reads, clock, failing };
}

describe('InvocationAccess', () => {
  it('lets IAM callers through without reading a grant, and refuses a request without identity', async () => {
    const { access, reads } = setup(new Map(), 'NO_PERMISSIONS');
    const iam: Principal = { name: 'arn:aws:iam::1:role/app', kind: 'iam', admin: false, ceiling: 'MANAGE' };
    await expect(access.authorize(iam, 'churn', 'churn-model')).resolves.toBeUndefined();
    expect(reads).toEqual([]);
    expect(() => access.principalOf(undefined)).toThrow(/^No credentials: send a Runway token/);
    // A refusal is a refusal, whatever else the authorizer's context says.
    expect(() =>
      access.principalOf({ authorizer: { lambda: { refused: 'revoked', user: 'ana', ceiling: 'READ' } } }),
    ).toThrow('The token was revoked');
    expect(access.principalOf({ authorizer: { lambda: { user: 'ana', ceiling: 'READ' } } })).toMatchObject({
      name: 'ana',
      kind: 'token',
      ceiling: 'READ',
    });
  });

  it('needs READ on the model: the default, a grant, a read-only token; NO_PERMISSIONS is 403', async () => {
    const { access } = setup(new Map([['bob@churn-model', 'NO_PERMISSIONS' as Permission]]));
    await expect(access.authorize(token('ana'), 'churn', 'churn-model')).resolves.toBeUndefined();
    await expect(access.authorize(token('ana', 'READ'), 'churn', 'churn-model')).resolves.toBeUndefined();
    await expect(access.authorize(token('bob'), 'churn', 'churn-model')).rejects.toMatchObject({
      errorCode: 'PERMISSION_DENIED',
      message: expect.stringContaining("registered model 'churn-model'"),
    });
  });

  it('reads a grant once per caller and model for the cache time, denials too, and retries a failed read', async () => {
    const { access, reads, clock, failing } = setup(new Map([['bob@m', 'NO_PERMISSIONS' as Permission]]));
    for (let i = 0; i < 5; i++) {
      await access.authorize(token('ana'), 'e', 'm');
      await expect(access.authorize(token('bob'), 'e', 'm')).rejects.toThrow();
    }
    expect(reads).toEqual(['ana@m', 'bob@m']);
    clock.now = INVOCATION_GRANT_CACHE_MS - 1;
    await access.authorize(token('ana'), 'e', 'm');
    expect(reads).toHaveLength(2);
    clock.now = INVOCATION_GRANT_CACHE_MS;
    await access.authorize(token('ana'), 'e', 'm');
    expect(reads).toHaveLength(3);
    // Another model is another decision; a failed read is not remembered.
    failing.next = true;
    await expect(access.authorize(token('ana'), 'e', 'other')).rejects.toThrow('throttled');
    await access.authorize(token('ana'), 'e', 'other');
    expect(reads).toEqual(['ana@m', 'bob@m', 'ana@m', 'ana@other', 'ana@other']);
  });
});
