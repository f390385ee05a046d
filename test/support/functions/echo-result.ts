/**
 * A function for the local runtime's tests: answers the result its event names, built here (a
 * proxy response, or values JSON changes: dates, undefined, objects with `toJSON`, class instances).
 */
class Point {
  constructor(
    readonly x: number,
    readonly body: string,
  ) {}
}

const RESULTS: Record<string, () => unknown> = {
  proxy: () => ({
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: '{"text":"quote \\" backslash \\\\ lone \ud800 emoji 🚀 nul \u0000"}',
    cookies: undefined,
  }),
  dated: () => ({ statusCode: 200, body: 'plain', when: new Date(0), skipped: undefined }),
  withToJson: () => ({ body: 'ignored', toJSON: () => ({ body: 'from toJSON' }) }),
  instance: () => new Point(1, 'instance body'),
  bodyNotText: () => ({ statusCode: 200, body: { nested: [1, undefined, null] } }),
  scalar: () => 'text',
  nothing: () => undefined,
};

export const handler = async (event: { result: string }) => (RESULTS[event.result] ?? (() => null))();

export const expected = (name: string): unknown =>
  JSON.parse(JSON.stringify((RESULTS[name] as () => unknown)()) ?? 'null');
