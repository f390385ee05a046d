import { describe, expect, it } from 'vitest';
import {
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
