import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../shared/platform/errors.ts';
import {
  decodePageToken,
  encodePageToken,
  paginate,
  queryFingerprint,
} from '../../shared/tracking/search/index.ts';

const fingerprint = queryFingerprint(["name LIKE 'a%'", ['name'], 'ACTIVE_ONLY']);

function rejects(token: string, fp = fingerprint): string {
  try {
    decodePageToken(token, fp);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidParameterError);
    expect((error as InvalidParameterError).httpStatus).toBe(400);
    return (error as Error).message;
  }
  throw new Error(`expected '${token}' to be rejected`);
}

const b64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

describe('page tokens', () => {
  it.each([0, 1, 100, 49_999, Number.MAX_SAFE_INTEGER])('round-trips offset %d', (offset) => {
    const token = encodePageToken({ offset, fingerprint });
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePageToken(token, fingerprint)).toEqual({ offset });
  });

  it('treats a missing or empty token as the first page, as MLflow does', () => {
    expect(decodePageToken(undefined, fingerprint)).toEqual({ offset: 0 });
    expect(decodePageToken('', fingerprint)).toEqual({ offset: 0 });
  });

  it('refuses a token issued for another query', () => {
    const token = encodePageToken({ offset: 10, fingerprint });
    const other = queryFingerprint(["name LIKE 'b%'", ['name'], 'ACTIVE_ONLY']);
    expect(rejects(token, other)).toContain('it belongs to a different query');
  });

  it.each([
    ['not base64', 'could not base64-decode'],
    ['abc=', 'could not base64-decode'],
    ['a+b/', 'could not base64-decode'],
    ['x'.repeat(600), 'could not base64-decode'],
    [b64url('not json'), 'not issued by this server'],
    [b64url('{}'), 'not issued by this server'],
    [b64url('[1]'), 'not issued by this server'],
    [b64url('null'), 'not issued by this server'],
    [b64url('{"offset":"a"}'), 'not issued by this server'],
    [b64url('{"offsoot":7}'), 'not issued by this server'],
    [b64url(`{"offset":-1,"fp":"${fingerprint}"}`), 'not issued by this server'],
    [b64url(`{"offset":1.5,"fp":"${fingerprint}"}`), 'not issued by this server'],
    [b64url('{"offset":3}'), 'not issued by this server'],
    // MLflow's own token format is not ours.
    [Buffer.from('{"offset": 1}').toString('base64'), 'Invalid page token'],
  ])('refuses garbage %s', (token, message) => {
    expect(rejects(token)).toContain(message);
  });

  it('refuses to encode a bad offset', () => {
    expect(() => encodePageToken({ offset: -1, fingerprint })).toThrow(RangeError);
    expect(() => encodePageToken({ offset: 0.5, fingerprint })).toThrow(RangeError);
  });
});

describe('queryFingerprint', () => {
  it('is stable, short and url-safe', () => {
    expect(queryFingerprint(['a', ['b'], 'ALL'])).toBe(queryFingerprint(['a', ['b'], 'ALL']));
    expect(queryFingerprint(['a'])).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('ignores object key order and undefined properties', () => {
    expect(queryFingerprint({ filter: 'x', orderBy: ['a'], extra: undefined })).toBe(
      queryFingerprint({ orderBy: ['a'], filter: 'x' }),
    );
  });

  it.each<[unknown, unknown]>([
    [
      ['a', ['b']],
      ['a', ['c']],
    ],
    [
      ['a', ['b', 'c']],
      ['a', ['c', 'b']],
    ],
    [
      ['a', 'ACTIVE_ONLY'],
      ['a', 'ALL'],
    ],
    [{ filter: '' }, { filter: undefined }],
    [['1'], [1]],
    [new Set(['a']), new Set(['b'])],
  ])('tells %j from %j', (a, b) => {
    expect(queryFingerprint(a)).not.toBe(queryFingerprint(b));
  });
});

describe('paginate (MLflow test_pagination)', () => {
  const items = ['0', '1', '2'];
  const next = (offset: number) => encodePageToken({ offset, fingerprint });

  it.each<[number | undefined, number, string[], number | undefined]>([
    [undefined, 1, ['0'], 1],
    [undefined, 2, ['0', '1'], 2],
    [undefined, 3, ['0', '1', '2'], undefined],
    [undefined, 5, ['0', '1', '2'], undefined],
    [1, 1, ['1'], 2],
    [1, 2, ['1', '2'], undefined],
    [1, 3, ['1', '2'], undefined],
    [2, 1, ['2'], undefined],
    [2, 2, ['2'], undefined],
    [3, 1, [], undefined],
  ])('offset %s, max %d', (offset, maxResults, page, nextOffset) => {
    const token = offset === undefined ? undefined : next(offset);
    const result = paginate(items, token, maxResults, fingerprint);
    expect(result.items).toEqual(page);
    expect(result.nextPageToken).toBe(nextOffset === undefined ? undefined : next(nextOffset));
  });
});
