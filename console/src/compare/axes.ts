/**
 * Turning run values into chart coordinates for the compare views: numbers stay numbers; an axis
 * whose values are not all numbers becomes categorical (each distinct value a position, sorted).
 */
export interface Axis {
  id: string;
  label: string;
  /** Position of each run's value, or null where the run has none. */
  positions: Array<number | null>;
  /** Category names by position for a categorical axis. */
  categories?: string[];
  min: number;
  max: number;
}

export function buildAxis(id: string, label: string, values: Array<string | number | undefined>): Axis {
  const present = values.filter((value): value is string | number => value !== undefined && value !== '');
  const numeric = present.every((value) => Number.isFinite(Number(value)));
  if (numeric) {
    const positions = values.map((value) => (value === undefined || value === '' ? null : Number(value)));
    const finite = positions.filter((value): value is number => value !== null);
    return { id, label, positions, min: Math.min(...finite, Infinity), max: Math.max(...finite, -Infinity) };
  }
  const categories = [...new Set(present.map(String))].sort();
  const index = new Map(categories.map((category, i) => [category, i]));
  return {
    id,
    label,
    categories,
    positions: values.map((value) =>
      value === undefined || value === '' ? null : (index.get(String(value)) as number),
    ),
    min: 0,
    max: Math.max(0, categories.length - 1),
  };
}

/** A position scaled into 0..1 on its axis (0.5 for an axis with one value). */
export function normalise(axis: Axis, position: number): number {
  return axis.max === axis.min ? 0.5 : (position - axis.min) / (axis.max - axis.min);
}
