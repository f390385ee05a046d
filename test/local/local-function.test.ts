import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalFunction } from '../../infra/local/lambda/local-function.ts';
import { REPO_ROOT } from '../../infra/repo-root.ts';
import { expected } from '../support/functions/echo-result.ts';

describe('LocalFunction results', () => {
  const fn = new LocalFunction(
    {
      name: 'echo-result',
      arn: 'arn:aws:lambda:us-east-1:000000000000:function:echo-result',
      entry: path.join(REPO_ROOT, 'test/support/functions/echo-result.ts'),
      handlerName: 'handler',
      environment: {},
      timeoutSeconds: 30,
      memorySize: 256,
    },
    {},
    () => undefined,
  );
  afterAll(() => fn.stop());

  it.each(['proxy', 'dated', 'withToJson', 'instance', 'bodyNotText', 'scalar', 'nothing'])(
    'gives the caller exactly what JSON keeps of a %s result, as Lambda does',
    async (name) => {
      const result = await fn.invoke({ result: name });
      expect(result).toStrictEqual(expected(name));
    },
  );
});

describe('LocalFunction logs', () => {
  const lines: string[] = [];
  const fn = new LocalFunction(
    {
      name: 'logger',
      arn: 'arn:aws:lambda:us-east-1:000000000000:function:logger',
      entry: path.join(REPO_ROOT, 'test/support/functions/logger.ts'),
      handlerName: 'handler',
      environment: {},
      timeoutSeconds: 30,
      memorySize: 256,
    },
    {},
    (name, line) => lines.push(`${name}: ${line}`),
  );
  afterAll(() => fn.stop());
  const until = async (line: string) => {
    for (let i = 0; i < 200 && !lines.includes(line); i++) await new Promise((r) => setTimeout(r, 10));
  };

  it('has every line an invocation wrote, whole and in order, when its result arrives', async () => {
    lines.length = 0;
    await expect(
      fn.invoke({ lines: ['one', 'two pieces', 'three on stderr', 'four', 'five'] }),
    ).resolves.toBe('done');
    expect(lines).toEqual([
      'logger: one',
      'logger: two pieces',
      'logger: three on stderr',
      'logger: four',
      'logger: five',
    ]);
  });

  it('passes on what the function writes after it returned', async () => {
    lines.length = 0;
    await fn.invoke({ lines: ['now'], later: 'afterwards' });
    await until('logger: afterwards');
    expect(lines).toEqual(['logger: now', 'logger: afterwards']);
  });

  it('passes on what a container wrote just before it crashed', async () => {
    lines.length = 0;
    await fn.invoke({ lines: ['before'], crash: true });
    await until('logger: about to fail');
    expect(lines.slice(0, 2)).toEqual(['logger: before', 'logger: about to fail']);
    // The next invocation starts a fresh container, whose lines arrive as before.
    for (let i = 0; i < 100; i++) {
      const done = await fn.invoke({ lines: ['again'] }).catch(() => undefined);
      if (done === 'done') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await until('logger: again');
    expect(lines).toContain('logger: again');
  });
});
