/**
 * A per-name mutual exclusion for the local S3 emulator's store: operations on one object key (or
 * one multipart upload) run one after another, so the index in memory and the files on disk change
 * in the same order; operations on different names still run concurrently.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `fn` once every earlier `run` for `name` has settled. */
  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(name) ?? Promise.resolve();
    let release: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => done);
    this.tails.set(name, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      // Forget the name once nobody queued behind us, so the map does not grow with every key ever seen.
      if (this.tails.get(name) === tail) this.tails.delete(name);
    }
  }
}
