import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Runway tokens: `rwy_<id>_<secret>`. The id is public (listings and revocation name it); the secret
 * is 256 random bits, stored only as its SHA-256. A slow hash (scrypt) protects low-entropy human
 * passwords from guessing; a 256-bit secret cannot be guessed, so a fast hash loses nothing and keeps
 * the authorizer at one GetItem and one hash per uncached request.
 */
const TOKEN_PATTERN = /^rwy_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface IssuedToken {
  tokenId: string;
  token: string;
  secretHash: string;
}

export function issueToken(): IssuedToken {
  const tokenId = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { tokenId, token: `rwy_${tokenId}_${secret}`, secretHash: hashSecret(secret) };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Splits a token into its id and secret; undefined when it is not a Runway token at all. */
export function parseToken(token: string): { tokenId: string; secret: string } | undefined {
  const match = TOKEN_PATTERN.exec(token.trim());
  return match ? { tokenId: match[1] as string, secret: match[2] as string } : undefined;
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/** The credential an `Authorization` header carries, as the MLflow client sends it. */
export type Credential =
  | { scheme: 'bearer'; token: string }
  | { scheme: 'basic'; user: string; token: string }
  | { scheme: 'none' }
  | { scheme: 'malformed' };

/**
 * Reads `Authorization: Bearer <token>` (`MLFLOW_TRACKING_TOKEN`) or `Basic base64(user:password)`
 * (`MLFLOW_TRACKING_USERNAME`/`PASSWORD`, where the password is a Runway token).
 */
export function readAuthorization(header: string | undefined): Credential {
  if (header === undefined || header.trim() === '') return { scheme: 'none' };
  const [scheme = '', value = ''] = header.trim().split(/\s+/, 2);
  if (/^bearer$/i.test(scheme) && value) return { scheme: 'bearer', token: value };
  if (/^basic$/i.test(scheme) && value) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { scheme: 'basic', user: decoded.slice(0, colon), token: decoded.slice(colon + 1) };
  }
  return { scheme: 'malformed' };
}
