import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../infra/repo-root.ts';
import { parseCsv } from '../../shared/pipelines/dataset/csv.ts';
import { seededRandom } from './random.ts';

/** The demo dataset's path and its parsed rows. */
export const IRIS_PATH = path.join(REPO_ROOT, 'datasets/iris/iris.csv');
export const IRIS_FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

export function iris() {
  const text = readFileSync(IRIS_PATH, 'utf8');
  const table = parseCsv(text);
  return { text, table, rows: table.rows };
}

/** Versicolor vs virginica (R's `iris[51:150, ]`): x = the four measurements, y = 1 for virginica. */
export function versicolorVirginica() {
  const rows = iris().rows.filter((row) => row[4] !== 'setosa');
  return {
    x: rows.map((row) => row.slice(0, 4).map(Number)),
    y: rows.map((row) => (row[4] === 'virginica' ? 1 : 0)),
  };
}

/** R's `glm(Species ~ ., family = binomial, data = iris[51:150, ])`. */
export const R_GLM = {
  intercept: -42.638,
  coefficients: [-2.465, -6.681, 9.429, 18.286],
  deviance: 11.899,
};

/** R's `lm(Petal.Width ~ Sepal.Length + Sepal.Width + Petal.Length, data = iris)`. */
export const R_LM = { intercept: -0.24031, coefficients: [-0.20727, 0.22283, 0.52408] };

/** The population standard deviation of Iris petal_length (as the pipeline's statistics report it). */
export const PETAL_LENGTH_SD = 1.7585291834055208;

/**
 * Traffic for a monitored Iris model: `count` rows drawn with replacement (seeded), the four
 * measurements as `x` with `shift` added to petal_length (the third), and the species.
 */
export function irisSample(seed: number, count: number, shift = 0): Array<{ x: number[]; species: string }> {
  const rows = iris().rows;
  const next = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const row = rows[Math.floor(next() * rows.length)] as string[];
    const x = row.slice(0, 4).map(Number);
    x[2] = (x[2] as number) + shift;
    return { x, species: row[4] as string };
  });
}
