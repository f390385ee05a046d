import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BUCKET_COUNT,
  bucketOf,
  bucketUpperMs,
  LatencyHistogram,
} from '../../shared/serving/latency-histogram.ts';

describe('latency histogram', () => {
  it('puts every latency in the bucket whose bounds hold it', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.051, max: 80_000, noNaN: true }), (ms) => {
        const index = bucketOf(ms);
        expect(ms).toBeLessThanOrEqual(bucketUpperMs(index) * (1 + 1e-12));
        expect(ms).toBeGreaterThan(bucketUpperMs(index - 1) * (1 - 1e-12));
      }),
    );
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(10 ** 9)).toBe(BUCKET_COUNT - 1);
  });

  it('answers a quantile as its bucket upper bound: never below the truth, at most 19% above', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.06, max: 60_000, noNaN: true }), { minLength: 1, maxLength: 500 }),
        (values) => {
          const histogram = new LatencyHistogram();
          for (const v of values) histogram.record(v);
          const sorted = [...values].sort((a, b) => a - b);
          const truth = sorted[Math.max(0, Math.ceil(0.99 * sorted.length) - 1)] as number;
          const p99 = histogram.quantile(0.99) as number;
          expect(p99).toBeGreaterThanOrEqual(truth * 0.9999);
          expect(p99).toBeLessThanOrEqual(truth * 2 ** 0.25 * 1.001);
        },
      ),
    );
  });

  it('is empty without values, and adds up bucket by bucket', () => {
    const a = new LatencyHistogram();
    expect(a.quantile(0.99)).toBeNull();
    expect(a.sample()).toEqual([]);
    for (let i = 0; i < 99; i++) a.record(1);
    a.record(100);
    expect(a.quantile(0.99)).toBeCloseTo(bucketUpperMs(bucketOf(1)), 3);
    expect(a.quantile(1)).toBeCloseTo(bucketUpperMs(bucketOf(100)), 3);
    const b = new LatencyHistogram();
    for (const [index, count] of a.counts) b.addBucket(index, count);
    b.addBucket(BUCKET_COUNT, 5);
    b.addBucket(3, -1);
    expect(b.total).toBe(100);
    expect(b.sample(10)).toHaveLength(10);
    expect(new Set(b.sample(10)).size).toBe(1);
  });
});
