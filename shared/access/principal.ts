import type { Principal } from './model.ts';
import { permissionSchema } from './permissions.ts';

/** The part of an HTTP API event's `requestContext` that carries the caller's identity. */
export interface AuthorizerContext {
  authorizer?: {
    /** What Runway's token authorizer returned as its `context`. */
    lambda?: Record<string, unknown> | null;
    /** What API Gateway's IAM authorization established (SigV4). */
    iam?: { userArn?: string | null } | null;
  } | null;
}

/** The context Runway's authorizer hands to functions for an authenticated token. */
export function authorizerContext(principal: Principal): Record<string, string | boolean> {
  return {
    user: principal.name,
    admin: principal.admin,
    ceiling: principal.ceiling,
    ...(principal.tokenId ? { tokenId: principal.tokenId } : {}),
  };
}

/**
 * Maps what API Gateway established about the caller to a principal: the authorizer's context for
 * tokens, the caller's ARN for IAM. IAM callers are admins when their ARN is one of
 * `adminPrincipals` (an entry ending in `*` matches a prefix). Undefined when the request carries no
 * identity at all, which a deployed API never lets through: functions then refuse it.
 */
export function principalFromContext(
  requestContext: AuthorizerContext | undefined,
  adminPrincipals: readonly string[],
): Principal | undefined {
  const lambda = requestContext?.authorizer?.lambda;
  if (lambda && typeof lambda.user === 'string' && lambda.user !== '') {
    const ceiling = permissionSchema.safeParse(lambda.ceiling);
    return {
      name: lambda.user,
      kind: 'token',
      // API Gateway passes context values as given; the local runtime and tests may pass strings.
      admin: lambda.admin === true || lambda.admin === 'true',
      ceiling: ceiling.success ? ceiling.data : 'READ',
      ...(typeof lambda.tokenId === 'string' ? { tokenId: lambda.tokenId } : {}),
    };
  }
  const arn = requestContext?.authorizer?.iam?.userArn;
  if (typeof arn === 'string' && arn !== '') {
    const name = iamPrincipalName(arn);
    return { name, kind: 'iam', admin: matchesAny(name, adminPrincipals), ceiling: 'MANAGE' };
  }
  return undefined;
}

/**
 * An assumed role's sessions (`arn:aws:sts::1:assumed-role/Role/session`) are one principal, the
 * role (`arn:aws:iam::1:role/Role`), so that grants name roles, not sessions.
 */
export function iamPrincipalName(arn: string): string {
  const assumed = /^arn:(aws[\w-]*):sts::(\d+):assumed-role\/([^/]+)\/.+$/.exec(arn);
  return assumed ? `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}` : arn;
}

function matchesAny(name: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) =>
    pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern,
  );
}
