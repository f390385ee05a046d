import { createHash } from 'node:crypto';
import type { Authentication } from './authenticator.ts';

/**
 * How long the token authorizer trusts an answer it gave: the revocation delay. A revoked token, a
 * deleted one or a changed user keeps its answer for at most this long in a warm container.
 */
export const AUTHENTICATION_CACHE_MS = 60_000;
/** Distinct `Authorization` headers a container remembers; the least recently used goes first beyond it. */
export const AUTHENTICATION_CACHE_ENTRIES = 1000;

interface Authenticator {
  authenticate(header: string | undefined): Promise<Authentication>;
}

/**
 * The token authorizer's answers, remembered in its container. API Gateway's own cache cannot be
 * used: it needs an identity source, and a request without that header is then answered 401 by API
 * Gateway itself, never in MLflow's shape. Keyed by the SHA-256 of the `Authorization` header, so no
 * credential is kept; acceptances and refusals are both remembered (a hit costs no DynamoDB read),
 * an acceptance no later than the token's expiry. A missing header is not cached: it needs no read.
 * A failed read is not cached either: it throws, and the next request tries again.
 */
export class CachingAuthenticator {
  private readonly entries = new Map<string, { until: number; answer: Authentication }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly authenticator: Authenticator,
    options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {},
  ) {
    this.ttlMs = options.ttlMs ?? AUTHENTICATION_CACHE_MS;
    this.maxEntries = options.maxEntries ?? AUTHENTICATION_CACHE_ENTRIES;
    this.now = options.now ?? Date.now;
  }

  /** Distinct headers remembered now (tests). */
  get size(): number {
    return this.entries.size;
  }

  async authenticate(header: string | undefined): Promise<Authentication> {
    if (header === undefined || header === '') return this.authenticator.authenticate(header);
    const key = createHash('sha256').update(header).digest('base64url');
    const now = this.now();
    const cached = this.entries.get(key);
    this.entries.delete(key);
    if (cached && cached.until > now) {
      this.entries.set(key, cached);
      return cached.answer;
    }
    const answer = await this.authenticator.authenticate(header);
    const expiresAt = answer.ok ? answer.expiresAt : undefined;
    const until = Math.min(this.now() + this.ttlMs, expiresAt ?? Number.POSITIVE_INFINITY);
    this.entries.delete(key);
    this.entries.set(key, { until, answer });
    while (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    return answer;
  }
}
