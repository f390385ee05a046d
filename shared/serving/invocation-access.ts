import type { AccessControl } from '../access/access-control.ts';
import { AUTHENTICATION_CACHE_MS } from '../access/authentication-cache.ts';
import type { Principal } from '../access/model.ts';
import { allows } from '../access/permissions.ts';
import type { AuthorizerContext } from '../access/principal.ts';
import { PermissionDeniedError } from '../platform/errors.ts';

/**
 * How long a container trusts a token caller's permission on a model: the token authorizer's own
 * cache TTL, so a revoked grant stops invocations within the time a revoked token does.
 */
export const INVOCATION_GRANT_CACHE_MS = AUTHENTICATION_CACHE_MS;
/** Distinct callers and models a container remembers; the oldest entry goes first beyond it. */
const MAX_CACHED_DECISIONS = 1000;

/**
 * Who may invoke an endpoint. The model server is served on both APIs: IAM callers were authorized
 * by API Gateway (`execute-api:Invoke` on the route, which IAM policies can narrow per endpoint) and
 * pass as before; token callers need READ on the registered model the endpoint serves, as reading the
 * endpoint does. A grant lookup per invocation would add a DynamoDB read to every prediction, so the
 * decision is cached per container by caller and model (denials too; failed lookups are not).
 */
export class InvocationAccess {
  private readonly decisions = new Map<string, { at: number; allowed: Promise<boolean> }>();

  constructor(private readonly options: { access: AccessControl; ttlMs?: number; now?: () => number }) {}

  /** The caller, or 401 UNAUTHENTICATED when the request carries no identity (fail closed). */
  principalOf(requestContext: AuthorizerContext | undefined): Principal {
    return this.options.access.principalOf(requestContext);
  }

  /** Throws 403 PERMISSION_DENIED unless `principal` may invoke `endpoint`, which serves `model`. */
  async authorize(principal: Principal, endpoint: string, model: string): Promise<void> {
    if (principal.kind === 'iam') return;
    if (await this.mayRead(principal, model)) return;
    throw new PermissionDeniedError(
      `Permission denied: '${principal.name}' may not invoke endpoint '${endpoint}' (it needs READ on registered model '${model}')`,
    );
  }

  private mayRead(principal: Principal, model: string): Promise<boolean> {
    const now = (this.options.now ?? Date.now)();
    const key = JSON.stringify([principal.name, principal.admin, principal.ceiling, model]);
    const cached = this.decisions.get(key);
    if (cached && now - cached.at < (this.options.ttlMs ?? INVOCATION_GRANT_CACHE_MS)) return cached.allowed;
    const allowed = this.options.access
      .permissionOn(principal, 'registered_model', model)
      .then((permission) => allows(permission, 'read'));
    this.decisions.delete(key);
    this.decisions.set(key, { at: now, allowed });
    if (this.decisions.size > MAX_CACHED_DECISIONS) {
      this.decisions.delete(this.decisions.keys().next().value as string);
    }
    allowed.catch(() => {
      if (this.decisions.get(key)?.allowed === allowed) this.decisions.delete(key);
    });
    return allowed;
  }
}
