import {
  InvalidParameterError,
  PermissionDeniedError,
  ResourceDoesNotExistError,
} from '../platform/errors.ts';
import type { Principal, TokenInfo } from './model.ts';
import type { TokenStore } from './ports.ts';
import { issueToken } from './token.ts';

/** Longest lifetime a token may be given: a year. Tokens without expiry are allowed but discouraged. */
export const MAX_TOKEN_LIFETIME_SECONDS = 366 * 24 * 3600;

export interface NewToken {
  user: string;
  admin?: boolean;
  readOnly?: boolean;
  expiresInSeconds?: number;
  description?: string;
}

/**
 * Creates, lists and revokes tokens. Only admins create tokens (for anyone, admin ones included);
 * every caller may list and revoke their own. The plain token is returned once, at creation.
 */
export class TokenService {
  constructor(
    private readonly tokens: TokenStore,
    private readonly now: () => number = Date.now,
  ) {}

  async create(request: NewToken, by: Principal): Promise<{ token: string; info: TokenInfo }> {
    requireAdmin(by, 'create tokens');
    if (
      request.expiresInSeconds !== undefined &&
      (request.expiresInSeconds <= 0 || request.expiresInSeconds > MAX_TOKEN_LIFETIME_SECONDS)
    ) {
      throw new InvalidParameterError(
        `expires_in_seconds must be from 1 to ${MAX_TOKEN_LIFETIME_SECONDS}, got ${request.expiresInSeconds}`,
      );
    }
    const issued = issueToken();
    const createdAt = this.now();
    const record = {
      tokenId: issued.tokenId,
      secretHash: issued.secretHash,
      user: request.user,
      admin: request.admin ?? false,
      ceiling: request.readOnly ? ('READ' as const) : ('MANAGE' as const),
      createdAt,
      createdBy: by.name,
      ...(request.description ? { description: request.description } : {}),
      ...(request.expiresInSeconds !== undefined
        ? { expiresAt: createdAt + request.expiresInSeconds * 1000 }
        : {}),
    };
    await this.tokens.put(record);
    const { secretHash: _hidden, ...info } = record;
    return { token: issued.token, info };
  }

  list(by: Principal): Promise<TokenInfo[]> {
    return this.tokens.list(by.admin ? undefined : by.name);
  }

  async revoke(tokenId: string, by: Principal): Promise<void> {
    const record = await this.tokens.get(tokenId);
    // Another user's token answers as a missing one: ids are not secret, but owners are nobody else's business.
    if (!record || (!by.admin && record.user !== by.name)) {
      throw new ResourceDoesNotExistError(`No token with id ${tokenId}`);
    }
    await this.tokens.revoke(tokenId, this.now());
  }
}

function requireAdmin(principal: Principal, what: string): void {
  if (!principal.admin || principal.ceiling !== 'MANAGE') {
    throw new PermissionDeniedError(`Permission denied: only admins may ${what}`);
  }
}
