/**
 * Pure series helpers for the charts: aligning several runs' histories on one x axis (what uPlot
 * draws), smoothing, and the palette. Kept apart from the DOM so they are unit-tested in Node.
 */

export interface Point {
  x: number;
  y: number;
}

export interface Series {
  label: string;
  points: Point[];
}

/** uPlot's aligned data: the sorted union of x values, then one y array per series (null = no point). */
export type Aligned = [number[], ...Array<Array<number | null>>];

/** Aligns series on the sorted union of their x values; a series has null where it has no point. */
export function align(series: Series[]): Aligned {
  if (series.length === 1) {
    const points = [...(series[0] as Series).points].sort((a, b) => a.x - b.x);
    return [points.map((p) => p.x), points.map((p) => p.y)];
  }
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = series.map((s) => {
    const column: Array<number | null> = new Array(xs.length).fill(null);
    for (const point of s.points) column[index.get(point.x) as number] = point.y;
    return column;
  });
  return [xs, ...ys];
}

/**
 * Exponential moving average with TensorBoard's debiasing (so the first points are not dragged
 * towards 0); `weight` 0 leaves the values as they are, 0.99 smooths hard. Nulls stay null.
 */
export function smooth(values: ReadonlyArray<number | null>, weight: number): Array<number | null> {
  if (weight <= 0) return [...values];
  let last = 0;
  let count = 0;
  return values.map((value) => {
    if (value === null || !Number.isFinite(value)) return value;
    last = last * weight + (1 - weight) * value;
    count++;
    return last / (1 - weight ** count);
  });
}

/** For a log scale: values at or below zero cannot be drawn, so they become gaps. */
export function positiveOnly(values: ReadonlyArray<number | null>): Array<number | null> {
  return values.map((value) => (value !== null && value > 0 ? value : null));
}

/** A metric value as the API sends it: a number, or "NaN" / "Infinity" as strings. */
export function metricNumber(value: number | string): number {
  return typeof value === 'number' ? value : Number(value);
}

/** Twelve colours that stay apart from each other on white (Tableau's palette, darkened a little). */
export const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
  '#393b79',
  '#637939',
];

export const colorOf = (index: number): string => PALETTE[index % PALETTE.length] as string;
