import { describe, expect, it } from 'vitest';
import { CachingAuthenticator } from '../../shared/access/authentication-cache.ts';
import { TokenAuthenticator } from '../../shared/access/authenticator.ts';
import type { TokenRecord } from '../../shared/access/model.ts';
import type { TokenStore } from '../../shared/access/ports.ts';
import { issueToken } from '../../shared/access/token.ts';

/** Tokens in memory, counting the reads the authorizer would make of DynamoDB. */
class CountingTokenStore implements Pick<TokenStore, 'get'> {
  readonly records = new Map<string, TokenRecord>();
  reads = 0;
  async get(tokenId: string) {
    this.reads++;
    const record = this.records.get(tokenId);
    return record && { ...record };
  }
  add(extra: Partial<TokenRecord> = {}): string {
    const issued = issueToken();
    this.records.set(issued.tokenId, {
      tokenId: issued.tokenId,
      secretHash: issued.secretHash,
      user: 'ana',
      admin: false,
      ceiling: 'MANAGE',
      createdAt: 0,
      createdBy: 'test',
      ...extra,
    });
    return issued.token;
  }
}

function setup(options: { maxEntries?: number } = {}) {
  const store = new CountingTokenStore();
  let now = 1_000_000;
  const clock = { advance: (ms: number) => (now += ms) };
  const cache = new CachingAuthenticator(new TokenAuthenticator(store as never, () => now), {
    ttlMs: 60_000,
    now: () => now,
    ...options,
  });
  return { store, clock, cache };
}

describe('the token authorizer’s in-container cache', () => {
  it('reads a token once per 60 s, acceptances and refusals alike, and sees a revocation after it', async () => {
    const { store, clock, cache } = setup();
    const token = store.add();
    const header = `Bearer ${token}`;
    expect((await cache.authenticate(header)).ok).toBe(true);
    expect((await cache.authenticate(header)).ok).toBe(true);
    expect(store.reads).toBe(1);
    const forged = `Bearer ${token.slice(0, 21)}${'A'.repeat(43)}`;
    expect(await cache.authenticate(forged)).toMatchObject({ ok: false, reason: 'unknown' });
    expect(await cache.authenticate(forged)).toMatchObject({ ok: false, reason: 'unknown' });
    expect(store.reads).toBe(2);
    // Revoked: still accepted from the cache until its entry is 60 s old, then refused.
    const tokenId = token.slice(4, 20);
    (store.records.get(tokenId) as TokenRecord).revokedAt = 1;
    clock.advance(59_999);
    expect((await cache.authenticate(header)).ok).toBe(true);
    clock.advance(1);
    expect(await cache.authenticate(header)).toEqual({ ok: false, reason: 'revoked', tokenId });
    expect(store.reads).toBe(3);
  });

  it('keys by the whole header, so Basic with another user is not the Bearer answer', async () => {
    const { store, cache } = setup();
    const token = store.add({ user: 'ana' });
    expect((await cache.authenticate(`Bearer ${token}`)).ok).toBe(true);
    const basic = (user: string) => `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;
    expect(await cache.authenticate(basic('eve'))).toMatchObject({ ok: false, reason: 'wrong-user' });
    expect((await cache.authenticate(basic('ana'))).ok).toBe(true);
    expect(store.reads).toBe(3);
  });

  it('never trusts an acceptance past the token’s expiry', async () => {
    const { store, clock, cache } = setup();
    const token = store.add({ expiresAt: 1_000_000 + 10_000 });
    expect((await cache.authenticate(`Bearer ${token}`)).ok).toBe(true);
    clock.advance(9_999);
    expect((await cache.authenticate(`Bearer ${token}`)).ok).toBe(true);
    expect(store.reads).toBe(1);
    clock.advance(1);
    expect(await cache.authenticate(`Bearer ${token}`)).toMatchObject({ ok: false, reason: 'expired' });
  });

  it('keeps at most maxEntries headers, dropping the least recently used, and no credential', async () => {
    const { store, cache } = setup({ maxEntries: 2 });
    const [a, b, c] = [store.add(), store.add(), store.add()].map((token) => `Bearer ${token}`) as [
      string,
      string,
      string,
    ];
    await cache.authenticate(a);
    await cache.authenticate(b);
    await cache.authenticate(a); // a is now the most recent
    await cache.authenticate(c); // evicts b
    expect({ size: cache.size, reads: store.reads }).toEqual({ size: 2, reads: 3 });
    await cache.authenticate(a);
    expect(store.reads).toBe(3);
    await cache.authenticate(b);
    expect(store.reads).toBe(4);
    const kept = JSON.stringify([...(cache as unknown as { entries: Map<string, unknown> }).entries.keys()]);
    for (const header of [a, b, c]) expect(kept).not.toContain(header.slice(7));
  });

  it('does not cache a missing header (no read) nor a failed read (the next request retries)', async () => {
    const { store, cache } = setup();
    expect(await cache.authenticate(undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(await cache.authenticate('')).toEqual({ ok: false, reason: 'missing' });
    expect({ size: cache.size, reads: store.reads }).toEqual({ size: 0, reads: 0 });
    const token = store.add();
    const get = store.get.bind(store);
    store.get = async () => {
      throw new Error('throttled');
    };
    await expect(cache.authenticate(`Bearer ${token}`)).rejects.toThrow('throttled');
    store.get = get;
    expect((await cache.authenticate(`Bearer ${token}`)).ok).toBe(true);
  });
});
