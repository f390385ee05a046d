/** Small statistics and table printing for the benchmarks. */

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export function summarize(samples: readonly number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

export function printTable(title: string, header: string[], rows: Array<Array<string | number>>): void {
  const cells = [
    header,
    ...rows.map((row) => row.map((cell) => (typeof cell === 'number' ? format(cell) : cell))),
  ];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => String(row[i] ?? '').length)));
  process.stdout.write(`\n${title}\n`);
  for (const [index, row] of cells.entries()) {
    process.stdout.write(`  ${row.map((cell, i) => String(cell).padEnd(widths[i] ?? 0)).join('  ')}\n`);
    if (index === 0) process.stdout.write(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  }
}

/** A figure as the tables print it: whole above 100, else two decimals. */
export function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return value >= 100 ? value.toFixed(0) : value.toFixed(2);
}

/** Runs `total` calls with at most `concurrency` in flight; per-call latencies and calls per second. */
export async function pool(total: number, concurrency: number, call: (i: number) => Promise<unknown>) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        await call(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, throughput: (total / (performance.now() - started)) * 1000 };
}

/** Emulator request counters, by operation. */
export type Counts = Readonly<Record<string, number>>;

/** Requests between two counter snapshots, per call, in all and by operation. */
export function requestsPerCall(after: Counts, before: Counts, n: number) {
  const byOperation: Record<string, number> = {};
  for (const [operation, count] of Object.entries(after)) {
    const delta = (count - (before[operation] ?? 0)) / n;
    if (delta > 0) byOperation[operation] = delta;
  }
  const total = Object.values(byOperation).reduce((sum, count) => sum + count, 0);
  const show = (count: number) => (Number.isInteger(count) ? String(count) : count.toFixed(2));
  const parts = Object.entries(byOperation).map(([operation, count]) => `${operation} ${show(count)}`);
  return { total, byOperation, text: parts.length === 0 ? '0' : `${show(total)} (${parts.join(', ')})` };
}
