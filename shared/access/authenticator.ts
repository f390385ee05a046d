import type { Principal } from './model.ts';
import type { TokenStore } from './ports.ts';
import { parseToken, readAuthorization, secretMatches } from './token.ts';

/** Why a credential was refused; logged (never the credential itself) and used in tests. */
export type RefusalReason = 'missing' | 'malformed' | 'unknown' | 'expired' | 'revoked' | 'wrong-user';

export type Authentication =
  | {
      ok: true;
      principal: Principal /** When the token expires (ms since the epoch), if it does. */;
      expiresAt?: number;
    }
  | { ok: false; reason: RefusalReason; tokenId?: string };

/**
 * Checks the `Authorization` header of a request against the token store: one GetItem by the token's
 * public id, then a constant-time comparison of the secret's hash. Basic credentials carry a token as
 * their password, and their user must be the token's.
 */
export class TokenAuthenticator {
  constructor(
    private readonly tokens: TokenStore,
    private readonly now: () => number = Date.now,
  ) {}

  async authenticate(header: string | undefined): Promise<Authentication> {
    const credential = readAuthorization(header);
    if (credential.scheme === 'none') return { ok: false, reason: 'missing' };
    if (credential.scheme === 'malformed') return { ok: false, reason: 'malformed' };
    const parsed = parseToken(credential.token);
    if (!parsed) return { ok: false, reason: 'malformed' };
    const { tokenId } = parsed;
    const record = await this.tokens.get(tokenId);
    if (!record || !secretMatches(parsed.secret, record.secretHash))
      return { ok: false, reason: 'unknown', tokenId };
    if (record.revokedAt !== undefined) return { ok: false, reason: 'revoked', tokenId };
    if (record.expiresAt !== undefined && record.expiresAt <= this.now()) {
      return { ok: false, reason: 'expired', tokenId };
    }
    if (credential.scheme === 'basic' && credential.user !== record.user) {
      return { ok: false, reason: 'wrong-user', tokenId };
    }
    return {
      ok: true,
      principal: { name: record.user, kind: 'token', admin: record.admin, ceiling: record.ceiling, tokenId },
      ...(record.expiresAt !== undefined ? { expiresAt: record.expiresAt } : {}),
    };
  }
}
