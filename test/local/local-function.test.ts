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
