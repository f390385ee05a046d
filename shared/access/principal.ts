import { UnauthenticatedError } from '../platform/errors.ts';
import type { RefusalReason } from './authenticator.ts';
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
 * The context Runway's authorizer hands to functions for refused credentials. An HTTP API cannot
 * shape its authorizer's refusals (they are API Gateway's bare 401 and 403), so the authorizer lets
 * the request through saying why, and the function answers MLflow's 401. The reason only: never the
 * credential, nor who it claims to be.
 */
export function refusedContext(reason: RefusalReason): { refused: RefusalReason } {
  return { refused: reason };
}

/** What a refused caller is told, per reason; nothing of the credential is echoed. */
const REFUSALS: Record<RefusalReason, string> = {
  missing:
    'No credentials: send a Runway token as Bearer or as the Basic password (MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD), or sign with SigV4',
  malformed:
    "The Authorization header is not a Runway token: send 'Bearer rwy_...' or Basic credentials whose password is the token",
  unknown: 'The token is not valid: it does not exist or its secret does not match',
  expired: 'The token has expired',
  revoked: 'The token was revoked',
  'wrong-user': "The Basic user name is not the token's user",
};

/**
 * Throws 401 UNAUTHENTICATED when the token authorizer refused the request's credentials. Every
 * function behind the token API calls it before anything else (fail closed), including those whose
 * routes read no identity, so a refused caller learns nothing but why it was refused.
 */
export function assertNotRefused(requestContext: AuthorizerContext | undefined): void {
  const lambda = requestContext?.authorizer?.lambda;
  if (!lambda || !('refused' in lambda)) return;
  throw refusedError(lambda.refused);
}

/** The 401 for refused credentials, saying why (a reason it does not know is said generically). */
export function refusedError(reason: unknown): UnauthenticatedError {
  return new UnauthenticatedError(
    typeof reason === 'string' && Object.hasOwn(REFUSALS, reason)
      ? REFUSALS[reason as RefusalReason]
      : 'The credentials were refused',
  );
}

/** The 401 for a request that carries no identity at all. */
export function unauthenticated(): UnauthenticatedError {
  return new UnauthenticatedError(REFUSALS.missing);
}

/**
 * Maps what API Gateway established about the caller to a principal: the authorizer's context for
 * tokens, the caller's ARN for IAM. IAM callers are admins when their ARN is one of
 * `adminPrincipals` (an entry ending in `*` matches a prefix). Undefined when the request carries no
 * identity, or the authorizer's context says it refused the credentials (whatever else it holds):
 * functions then refuse it.
 */
export function principalFromContext(
  requestContext: AuthorizerContext | undefined,
  adminPrincipals: readonly string[],
): Principal | undefined {
  const lambda = requestContext?.authorizer?.lambda;
  // A token API request is the authorizer's word only: a refusal is never read as anything else.
  if (lambda && 'refused' in lambda) return undefined;
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
