/**
 * Latency histograms with fixed logarithmic buckets, so that histograms from any container and any
 * time add up by bucket index (the stats items in DynamoDB are sums of them). Bucket `i` holds
 * latencies in `(upper(i-1), upper(i)]` with `upper(i) = 0.05 ms * 2^(i/4)`: 19% wide, from 50 µs
 * to about 86 s in 84 buckets. A quantile is answered as its bucket's upper bound, so a p99 is never
 * understated and overstated by at most 19%.
 */

export const HISTOGRAM_BASE_MS = 0.05;
export const BUCKETS_PER_DOUBLING = 4;
export const BUCKET_COUNT = 84;

/** The upper bound of bucket `index` in milliseconds. */
export function bucketUpperMs(index: number): number {
  return HISTOGRAM_BASE_MS * 2 ** (index / BUCKETS_PER_DOUBLING);
}

/** The bucket of a latency: the smallest `i` with `ms <= upper(i)`; the last bucket takes everything above. */
export function bucketOf(ms: number): number {
  if (!(ms > HISTOGRAM_BASE_MS)) return 0;
  const index = Math.ceil(Math.log2(ms / HISTOGRAM_BASE_MS) * BUCKETS_PER_DOUBLING - 1e-9);
  return Math.min(BUCKET_COUNT - 1, Math.max(0, index));
}

/** A sparse histogram: bucket index -> count. */
export class LatencyHistogram {
  readonly counts = new Map<number, number>();
  total = 0;

  record(ms: number, count = 1): void {
    const index = bucketOf(ms);
    this.counts.set(index, (this.counts.get(index) ?? 0) + count);
    this.total += count;
  }

  addBucket(index: number, count: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= BUCKET_COUNT || !(count > 0)) return;
    this.counts.set(index, (this.counts.get(index) ?? 0) + count);
    this.total += count;
  }

  /** The upper bound of the bucket holding quantile `q` (0..1); null when empty. */
  quantile(q: number): number | null {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (const index of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(index) ?? 0;
      if (seen >= rank) return round(bucketUpperMs(index));
    }
    return round(bucketUpperMs(BUCKET_COUNT - 1));
  }

  /**
   * At most `max` values spread over the distribution (one per quantile step), for CloudWatch EMF,
   * whose metric values are an array of at most 100 numbers.
   */
  sample(max = 100): number[] {
    const n = Math.min(max, this.total);
    const out: number[] = [];
    for (let k = 0; k < n; k++) out.push(this.quantile((k + 0.5) / n) as number);
    return out;
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
