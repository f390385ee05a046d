/**
 * The dense linear algebra the built-in trainer needs, on plain arrays (rows of numbers): Householder
 * QR least squares, which never forms XᵀX and so keeps the accuracy of the data, and a Cholesky
 * solve for the symmetric positive definite Newton systems of logistic regression.
 */

export class SingularMatrixError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SingularMatrixError';
  }
}

/**
 * The `x` minimising ‖A·x − b‖₂ for A of m × n (m ≥ n) of full column rank, by Householder QR.
 * Throws {@link SingularMatrixError} naming the first column that is (numerically) a combination of
 * the previous ones.
 */
export function leastSquaresQr(a: readonly (readonly number[])[], b: readonly number[]): number[] {
  const m = a.length;
  const n = a[0]?.length ?? 0;
  if (m < n) throw new SingularMatrixError(`${m} equations cannot determine ${n} unknowns`);
  if (b.length !== m) throw new RangeError('A and b have different numbers of rows');
  // Column-major copy: reflections work down columns.
  const r = Array.from({ length: n }, (_, j) => Float64Array.from(a, (row) => row[j] as number));
  const y = Float64Array.from(b);
  const norms = r.map((column) => Math.hypot(...column));
  for (let k = 0; k < n; k++) {
    const column = r[k] as Float64Array;
    let norm = 0;
    for (let i = k; i < m; i++) norm = Math.hypot(norm, column[i] as number);
    if (norm <= 1e-12 * Math.max(norms[k] as number, 1)) {
      throw new SingularMatrixError(`column ${k} is a linear combination of the columns before it`);
    }
    const alpha = (column[k] as number) > 0 ? -norm : norm;
    // v = x - alpha e_k, stored in place below the diagonal.
    const v = new Float64Array(m - k);
    for (let i = k; i < m; i++) v[i - k] = column[i] as number;
    v[0] = (v[0] as number) - alpha;
    const vNormSquared = v.reduce((sum, value) => sum + value * value, 0);
    const reflect = (target: Float64Array) => {
      let dot = 0;
      for (let i = k; i < m; i++) dot += (v[i - k] as number) * (target[i] as number);
      const scale = (2 * dot) / vNormSquared;
      for (let i = k; i < m; i++) target[i] = (target[i] as number) - scale * (v[i - k] as number);
    };
    for (let j = k; j < n; j++) reflect(r[j] as Float64Array);
    reflect(y);
  }
  // Back substitution on the upper triangle R x = Qᵀ b.
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i] as number;
    for (let j = i + 1; j < n; j++) sum -= (r[j] as Float64Array)[i]! * (x[j] as number);
    x[i] = sum / (r[i] as Float64Array)[i]!;
  }
  return x;
}

/** Solves A·x = b for symmetric positive definite A by Cholesky factorisation (A = L·Lᵀ). */
export function solveCholesky(a: readonly (readonly number[])[], b: readonly number[]): number[] {
  const n = a.length;
  const l = Array.from({ length: n }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i]![j] as number;
      for (let k = 0; k < j; k++) sum -= l[i]![k]! * l[j]![k]!;
      if (i === j) {
        if (!(sum > 1e-12 * Math.max(Math.abs(a[i]![i] as number), 1))) {
          throw new SingularMatrixError(`the matrix is not positive definite (pivot ${i})`);
        }
        l[i]![i] = Math.sqrt(sum);
      } else {
        l[i]![j] = sum / l[j]![j]!;
      }
    }
  }
  const z = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let sum = b[i] as number;
    for (let k = 0; k < i; k++) sum -= l[i]![k]! * (z[k] as number);
    z[i] = sum / l[i]![i]!;
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let sum = z[i] as number;
    for (let k = i + 1; k < n; k++) sum -= l[k]![i]! * (x[k] as number);
    x[i] = sum / l[i]![i]!;
  }
  return x;
}
