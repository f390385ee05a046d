import { seededRandom } from '../../shared/pipelines/dataset/split.ts';

/** `count` normal values (Box-Muller over the pipeline's seeded generator): the same every run. */
export function normals(seed: number, count: number, mean = 0, sd = 1): number[] {
  const uniform = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const u = uniform() || 1e-12;
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  });
}

export { seededRandom };
