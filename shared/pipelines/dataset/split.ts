/**
 * A reproducible train/test split: the same rows, seed and fraction always give the same split.
 * Classification splits are stratified (each class keeps its share in both parts), so a small test
 * set still holds both classes.
 */

/** mulberry32: a small, fast, well-distributed 32-bit PRNG; ample for shuffling rows. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Row indices of the training and test parts. `strata` (one label per row) stratifies the split;
 * every stratum with at least two rows contributes at least one row to each part.
 */
export function splitRows(
  rowCount: number,
  options: { testFraction: number; seed: number; strata?: readonly string[] | undefined },
): { train: number[]; test: number[] } {
  const random = seededRandom(options.seed);
  const groups = new Map<string, number[]>();
  for (let i = 0; i < rowCount; i++) {
    const key = options.strata?.[i] ?? '';
    const group = groups.get(key);
    if (group) group.push(i);
    else groups.set(key, [i]);
  }
  const train: number[] = [];
  const test: number[] = [];
  for (const key of [...groups.keys()].sort()) {
    const rows = groups.get(key) as number[];
    // Fisher-Yates shuffle.
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [rows[i], rows[j]] = [rows[j] as number, rows[i] as number];
    }
    let testCount = Math.round(rows.length * options.testFraction);
    if (rows.length >= 2) testCount = Math.min(Math.max(testCount, 1), rows.length - 1);
    test.push(...rows.slice(0, testCount));
    train.push(...rows.slice(testCount));
  }
  return { train: train.sort((a, b) => a - b), test: test.sort((a, b) => a - b) };
}
