/** Maps with at most `limit` calls in flight, keeping the order of `items` in the results. */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  map: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await map(items[index] as T);
    }
  });
  await Promise.all(workers);
  return results;
}

/** A short random pause after a lost race, so racers spread out instead of colliding again. */
export function jitter(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(50, 2 + attempt * 5);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
