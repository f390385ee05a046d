/**
 * Polls `read` every 250 ms until it answers something other than `undefined`, for at most
 * `timeoutMs`; then fails naming `what` and what `explain` says of the state (functions start cold
 * and deploys run by steps, so e2e waits are bounded but generous).
 */
export async function waitFor<T>(
  what: string,
  read: () => Promise<T | undefined>,
  explain: () => Promise<string>,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}: ${await explain()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
