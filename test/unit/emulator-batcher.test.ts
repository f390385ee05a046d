import { describe, expect, it } from 'vitest';
import { batcher } from '../../infra/local/lambda/emulator-transport.ts';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('batcher', () => {
  it('posts what was sent in one turn as one message, in order', async () => {
    const posted: number[][] = [];
    const send = batcher<number>((items) => posted.push(items));
    send(1);
    await Promise.resolve(); // a later microtask of the same turn still joins the batch
    send(2);
    send(3);
    expect(posted).toEqual([]);
    await turn();
    expect(posted).toEqual([[1, 2, 3]]);
  });

  it('starts a new message for what is sent in a later turn, and posts nothing when idle', async () => {
    const posted: string[][] = [];
    const send = batcher<string>((items) => posted.push(items));
    send('a');
    await turn();
    send('b');
    await turn();
    await turn();
    expect(posted).toEqual([['a'], ['b']]);
  });
});
