/**
 * Data validation after TFX Data Validation: a dataset is checked against what the pipeline needs
 * (the target and feature columns, their types) and, when there is one, against the schema and
 * statistics of the last accepted dataset (missing columns, type changes, missing values, values
 * outside the observed range or domain, distribution drift). Each problem is an anomaly; any anomaly
 * of severity `error` rejects the dataset, with a report a person can act on.
 */
import type { Table } from './csv.ts';
import { jensenShannon, lInfinity } from './drift.ts';
import {
  type ColumnSchema,
  type DatasetSchema,
  type DatasetStatistics,
  frequenciesOf,
  isMissing,
  NumericAccumulator,
  numberOf,
  presentValues,
} from './statistics.ts';

export { jensenShannon, lInfinity };

export type AnomalyKind =
  | 'TOO_FEW_ROWS'
  | 'MISSING_COLUMN'
  | 'NEW_COLUMN'
  | 'TYPE_MISMATCH'
  | 'NON_NUMERIC_FEATURE'
  | 'MISSING_VALUES'
  | 'OUT_OF_RANGE'
  | 'UNEXPECTED_VALUES'
  | 'INVALID_TARGET'
  | 'DISTRIBUTION_DRIFT';

export interface Anomaly {
  kind: AnomalyKind;
  severity: 'error' | 'warning';
  /** The column concerned; absent for dataset-wide anomalies. */
  column?: string;
  description: string;
}

/** What the training step will read from the dataset. */
export interface DatasetRequirements {
  targetColumn: string;
  featureColumns: readonly string[];
  task: 'regression' | 'binary_classification';
  /** The target value that is the positive class (binary classification). */
  positiveClass?: string | undefined;
}

export interface ValidationOptions {
  /** @default 10 */
  minRows: number;
  /** A number outside [min - margin·span, max + margin·span] of the baseline range is out of range. @default 0.25 */
  rangeMargin: number;
  /** Largest Jensen-Shannon divergence (base 2, 0..1) of a numeric column's histogram. @default 0.3 */
  maxNumericDrift: number;
  /** Largest L-infinity distance between a string column's value frequencies. @default 0.3 */
  maxCategoricalDrift: number;
}

export const DEFAULT_VALIDATION_OPTIONS: ValidationOptions = {
  minRows: 10,
  rangeMargin: 0.25,
  maxNumericDrift: 0.3,
  maxCategoricalDrift: 0.3,
};

export interface Baseline {
  schema: DatasetSchema;
  statistics: DatasetStatistics;
  /** Where the baseline comes from, for the report (e.g. `model iris version 3`). */
  description: string;
}

const quoteValues = (values: readonly string[], max = 3): string =>
  values
    .slice(0, max)
    .map((value) => JSON.stringify(value))
    .join(', ') + (values.length > max ? `, ... (${values.length} distinct)` : '');

const percent = (fraction: number): string => `${(fraction * 100).toFixed(1)}%`;

function checkRequirements(
  table: Table,
  statistics: DatasetStatistics,
  needs: DatasetRequirements,
  options: ValidationOptions,
): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const byName = new Map(statistics.columns.map((column) => [column.name, column]));
  if (statistics.rows < options.minRows) {
    anomalies.push({
      kind: 'TOO_FEW_ROWS',
      severity: 'error',
      description: `the dataset has ${statistics.rows} rows; training needs at least ${options.minRows}`,
    });
  }
  for (const name of [needs.targetColumn, ...needs.featureColumns]) {
    if (!byName.has(name)) {
      const role = name === needs.targetColumn ? 'target' : 'feature';
      anomalies.push({
        kind: 'MISSING_COLUMN',
        severity: 'error',
        column: name,
        description: `the ${role} column is not in the dataset (columns: ${table.columns.join(', ')})`,
      });
    }
  }
  for (const name of needs.featureColumns) {
    const column = byName.get(name);
    if (column?.type !== 'string') continue;
    const index = table.columns.indexOf(name);
    const bad = presentValues(table, index).filter((field) => numberOf(field) === undefined);
    anomalies.push({
      kind: 'NON_NUMERIC_FEATURE',
      severity: 'error',
      column: name,
      description: `features must be numeric; found ${bad.length} non-numeric values (${quoteValues([...new Set(bad)])})`,
    });
  }
  const target = byName.get(needs.targetColumn);
  if (!target) return anomalies;
  if (target.missing > 0) {
    anomalies.push({
      kind: 'MISSING_VALUES',
      severity: 'error',
      column: target.name,
      description: `the target is missing in ${target.missing} of ${target.count} rows`,
    });
  }
  if (needs.task === 'regression' && target.type === 'string') {
    anomalies.push({
      kind: 'INVALID_TARGET',
      severity: 'error',
      column: target.name,
      description: 'a regression target must be numeric',
    });
  }
  if (needs.task === 'binary_classification') {
    const values = new Set(presentValues(table, table.columns.indexOf(target.name)));
    const positive = needs.positiveClass;
    if (positive !== undefined && !values.has(positive)) {
      anomalies.push({
        kind: 'INVALID_TARGET',
        severity: 'error',
        column: target.name,
        description: `the positive class ${JSON.stringify(positive)} never occurs (values: ${quoteValues([...values])})`,
      });
    } else if (positive === undefined && [...values].some((value) => value !== '0' && value !== '1')) {
      anomalies.push({
        kind: 'INVALID_TARGET',
        severity: 'error',
        column: target.name,
        description: `a binary target must be 0/1 unless a positive class is given (values: ${quoteValues([...values])})`,
      });
    } else if (values.size < 2) {
      anomalies.push({
        kind: 'INVALID_TARGET',
        severity: 'error',
        column: target.name,
        description: 'the target has a single value: there is nothing to classify',
      });
    }
  }
  return anomalies;
}

function checkColumnAgainstBaseline(
  table: Table,
  expected: ColumnSchema,
  baseline: Baseline,
  options: ValidationOptions,
): Anomaly[] {
  const index = table.columns.indexOf(expected.name);
  const column = expected.name;
  if (index < 0) {
    return [
      {
        kind: 'MISSING_COLUMN',
        severity: 'error',
        column,
        description: `the column is in the baseline schema but not in the dataset`,
      },
    ];
  }
  const anomalies: Anomaly[] = [];
  const present = presentValues(table, index);
  const presence = table.rows.length === 0 ? 1 : present.length / table.rows.length;
  const required = expected.minPresence >= 1 ? 1 : Math.max(0, expected.minPresence - 0.05);
  if (presence < required) {
    const missingRows = table.rows.flatMap((row, i) => (isMissing(row[index] as string) ? [i + 1] : []));
    anomalies.push({
      kind: 'MISSING_VALUES',
      severity: 'error',
      column,
      description: `${percent(1 - presence)} of rows have no value (rows ${missingRows.slice(0, 5).join(', ')}${missingRows.length > 5 ? ', ...' : ''}); the baseline allows ${percent(1 - required)}`,
    });
  }
  if (expected.type !== 'string') {
    const bad = present.filter((field) => numberOf(field) === undefined);
    if (bad.length > 0) {
      anomalies.push({
        kind: 'TYPE_MISMATCH',
        severity: 'error',
        column,
        description: `expected ${expected.type} values, found ${bad.length} that are not numbers (${quoteValues([...new Set(bad)])})`,
      });
      return anomalies;
    }
    const numbers = present.map((field) => numberOf(field) as number);
    if (expected.type === 'integer' && numbers.some((value) => !Number.isInteger(value))) {
      anomalies.push({
        kind: 'TYPE_MISMATCH',
        severity: 'warning',
        column,
        description: 'expected integers, found fractional values',
      });
    }
    anomalies.push(...checkRange(column, numbers, expected, options));
    anomalies.push(...checkNumericDrift(column, numbers, baseline, options));
    return anomalies;
  }
  if (expected.domain) {
    const domain = new Set(expected.domain);
    const unexpected = [...new Set(present.filter((field) => !domain.has(field)))];
    if (unexpected.length > 0) {
      anomalies.push({
        kind: 'UNEXPECTED_VALUES',
        severity: 'error',
        column,
        description: `values outside the baseline domain: ${quoteValues(unexpected)} (domain: ${quoteValues(expected.domain, 5)})`,
      });
    }
  }
  const base = baseline.statistics.columns.find((stats) => stats.name === column)?.categorical;
  if (base) {
    const distance = lInfinity(frequenciesOf(present), new Map(Object.entries(base.frequencies)));
    if (distance > options.maxCategoricalDrift) {
      anomalies.push({
        kind: 'DISTRIBUTION_DRIFT',
        severity: 'error',
        column,
        description: `value frequencies moved by ${distance.toFixed(3)} (L-infinity) from the baseline; the limit is ${options.maxCategoricalDrift}`,
      });
    }
  }
  return anomalies;
}

function checkRange(
  column: string,
  numbers: readonly number[],
  expected: ColumnSchema,
  options: ValidationOptions,
): Anomaly[] {
  if (!expected.range || numbers.length === 0) return [];
  const { min, max } = expected.range;
  const margin = (max - min) * options.rangeMargin;
  const outside = numbers.filter((value) => value < min - margin || value > max + margin);
  if (outside.length === 0) return [];
  const shown = [...new Set(outside)].slice(0, 3).join(', ');
  return [
    {
      kind: 'OUT_OF_RANGE',
      severity: 'error',
      column,
      description: `${outside.length} values outside the baseline range [${min}, ${max}] (with a margin of ${options.rangeMargin} of its span): ${shown}`,
    },
  ];
}

function checkNumericDrift(
  column: string,
  numbers: readonly number[],
  baseline: Baseline,
  options: ValidationOptions,
): Anomaly[] {
  const base = baseline.statistics.columns.find((stats) => stats.name === column)?.numeric;
  if (!base || numbers.length === 0) return [];
  const { low, high, counts } = base.histogram;
  const current = new NumericAccumulator({ histogramRange: { low, high } });
  for (const value of numbers) current.add(value);
  const divergence = jensenShannon(current.histogramCounts ?? [], counts);
  if (divergence <= options.maxNumericDrift) return [];
  return [
    {
      kind: 'DISTRIBUTION_DRIFT',
      severity: 'error',
      column,
      description: `the distribution moved by ${divergence.toFixed(3)} (Jensen-Shannon divergence) from the baseline; the limit is ${options.maxNumericDrift}`,
    },
  ];
}

/** Every anomaly of `table`: against the pipeline's needs, and against the baseline when given. */
export function validateDataset(
  table: Table,
  statistics: DatasetStatistics,
  needs: DatasetRequirements,
  baseline: Baseline | undefined,
  options: ValidationOptions = DEFAULT_VALIDATION_OPTIONS,
): Anomaly[] {
  const anomalies = checkRequirements(table, statistics, needs, options);
  if (!baseline) return anomalies;
  for (const expected of baseline.schema.columns) {
    // A column already reported missing as a requirement is not reported twice.
    if (!table.columns.includes(expected.name) && anomalies.some((a) => a.column === expected.name)) continue;
    anomalies.push(...checkColumnAgainstBaseline(table, expected, baseline, options));
  }
  const known = new Set(baseline.schema.columns.map((column) => column.name));
  for (const name of table.columns.filter((column) => !known.has(column))) {
    anomalies.push({
      kind: 'NEW_COLUMN',
      severity: 'warning',
      column: name,
      description: 'the column is not in the baseline schema',
    });
  }
  return anomalies;
}

/** A readable report: one line per anomaly, errors first. */
export function formatAnomalyReport(
  anomalies: readonly Anomaly[],
  context: { dataset: string; baseline?: string | undefined },
): string {
  const errors = anomalies.filter((anomaly) => anomaly.severity === 'error');
  const warnings = anomalies.filter((anomaly) => anomaly.severity === 'warning');
  const against = context.baseline ? ` against the schema of ${context.baseline}` : '';
  const head =
    errors.length > 0
      ? `Data validation failed for ${context.dataset}${against}: ${errors.length} error(s), ${warnings.length} warning(s)`
      : `Data validation passed for ${context.dataset}${against}: ${warnings.length} warning(s)`;
  const line = (anomaly: Anomaly) =>
    `- [${anomaly.severity}] ${anomaly.kind}${anomaly.column ? ` in column "${anomaly.column}"` : ''}: ${anomaly.description}`;
  return [head, ...errors.map(line), ...warnings.map(line)].join('\n');
}
