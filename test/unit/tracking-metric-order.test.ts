import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareMetricPoints,
  isLaterMetric,
  MAX_DOUBLE,
  metricPointOrder,
  metricValueOrder,
} from '../../shared/tracking/run.model.ts';

describe('metricValueOrder', () => {
  const ascending = [
    -MAX_DOUBLE,
    -1e300,
    -2,
    -1,
    -1e-300,
    -Number.MIN_VALUE,
    0,
    Number.MIN_VALUE,
    1e-300,
    0.5,
    1,
    2,
    1e300,
    MAX_DOUBLE,
    Number.NaN,
  ];

  it('orders as text exactly as MLflow orders values (NaN above every number)', () => {
    const texts = ascending.map(metricValueOrder);
    expect([...texts].sort()).toEqual(texts);
    expect(new Set(texts).size).toBe(ascending.length);
    for (const [i, a] of ascending.entries()) {
      for (const [j, b] of ascending.entries()) {
        const later = isLaterMetric({ step: 0, timestamp: 0, value: a }, { step: 0, timestamp: 0, value: b });
        expect(later, `${a} vs ${b}`).toBe(i > j);
        expect(metricValueOrder(a) > metricValueOrder(b), `${a} vs ${b}`).toBe(i > j);
      }
    }
  });

  it('gives -0 and 0 one text, as they are one value', () => {
    expect(metricValueOrder(-0)).toBe(metricValueOrder(0));
  });
});

describe('metricPointOrder', () => {
  it('orders points as text exactly as MLflow picks the later one: step, then timestamp, then value', () => {
    const points = [];
    for (const step of [-(2 ** 53), -3, 0, 1, 2 ** 40]) {
      for (const timestamp of [0, 7, 2 ** 50]) {
        for (const value of [-MAX_DOUBLE, -1, 0, 0.5, MAX_DOUBLE, Number.NaN])
          points.push({ step, timestamp, value });
      }
    }
    for (const a of points) {
      for (const b of points) {
        expect(metricPointOrder(a) > metricPointOrder(b), JSON.stringify([a, b])).toBe(isLaterMetric(a, b));
      }
    }
  });
});

describe('compareMetricPoints', () => {
  it('orders and equates points exactly as their order texts do (a batch sorts and dedupes by it)', () => {
    const value = fc.oneof(fc.double(), fc.constantFrom(0, -0, 1, Number.NaN, Number.POSITIVE_INFINITY));
    const point = fc.record({
      step: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constant(-0), fc.integer()),
      timestamp: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 2 ** 45 })),
      value,
    });
    fc.assert(
      fc.property(point, point, (a, b) => {
        const [ta, tb] = [metricPointOrder(a), metricPointOrder(b)];
        expect(Math.sign(compareMetricPoints(a, b)), JSON.stringify([a, b])).toBe(
          ta < tb ? -1 : ta > tb ? 1 : 0,
        );
        expect(compareMetricPoints(a, { ...a })).toBe(0);
      }),
      { seed: 11, numRuns: 5000 },
    );
  });
});

describe('the order texts, as earlier versions wrote them', () => {
  // Stored points carry these texts (`r`): new ones must compare with them, so they must be equal.
  const reference = {
    value(value: number): string {
      if (Number.isNaN(value)) return 'n';
      const view = new DataView(new ArrayBuffer(8));
      view.setFloat64(0, value === 0 ? 0 : value);
      const bits = view.getBigUint64(0);
      const sign = 1n << 63n;
      return (bits & sign ? ~bits & 0xffff_ffff_ffff_ffffn : bits | sign).toString(16).padStart(16, '0');
    },
    point(point: { step: number; timestamp: number; value: number }): string {
      const step = (BigInt(point.step) + 2n ** 63n).toString(16).padStart(16, '0');
      const timestamp = BigInt(point.timestamp).toString(16).padStart(16, '0');
      return `${step}${timestamp}${reference.value(point.value)}`;
    },
  };

  it('are the same texts for any double, step and timestamp', () => {
    fc.assert(
      fc.property(
        fc.double(),
        fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        (value, step, timestamp) => {
          expect(metricValueOrder(value)).toBe(reference.value(value));
          expect(metricPointOrder({ step, timestamp, value })).toBe(
            reference.point({ step, timestamp, value }),
          );
        },
      ),
      { seed: 7, numRuns: 5000 },
    );
  });
});
