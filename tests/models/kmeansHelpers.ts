/**
 * Test-only k-means helpers: comparing two clusterings (adjusted Rand index)
 * and z-scoring points in JS (the pipeline z-scores in SQL).
 */
import { checkMatrix, KMeansError } from '../../src/models/kmeans.js';

function choose2(x: number): number {
  return (x * (x - 1)) / 2;
}

/**
 * Adjusted Rand index (Hubert & Arabie 1985) between two labelings of the
 * same items: 1 = identical up to relabelling, ≈0 = chance. Labels are any
 * numbers. Degenerate cases where the index is undefined (both labelings a
 * single cluster, or both all singletons, or fewer than two items) give 1,
 * as scikit-learn does.
 */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new KMeansError('INVALID_INPUT', `labelings differ in length: ${a.length} vs ${b.length}`);
  }
  const n = a.length;
  const ids = (labels: ArrayLike<number>): { codes: Int32Array; count: number } => {
    const map = new Map<number, number>();
    const codes = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let code = map.get(labels[i]);
      if (code === undefined) {
        code = map.size;
        map.set(labels[i], code);
      }
      codes[i] = code;
    }
    return { codes, count: map.size };
  };
  const A = ids(a);
  const B = ids(b);
  const table = new Float64Array(A.count * B.count);
  const rowSums = new Float64Array(A.count);
  const colSums = new Float64Array(B.count);
  for (let i = 0; i < n; i++) {
    table[A.codes[i] * B.count + B.codes[i]]++;
    rowSums[A.codes[i]]++;
    colSums[B.codes[i]]++;
  }
  let index = 0;
  for (const v of table) index += choose2(v);
  let sumA = 0;
  for (const v of rowSums) sumA += choose2(v);
  let sumB = 0;
  for (const v of colSums) sumB += choose2(v);
  const pairs = choose2(n);
  const expected = pairs > 0 ? (sumA * sumB) / pairs : 0;
  const max = (sumA + sumB) / 2;
  if (max === expected) return 1;
  return (index - expected) / (max - expected);
}

// ---------------------------------------------------------------------------
// Scaling

export interface ZScored {
  /** n×d copy, each column (x − mean) / std; a constant column becomes all 0. */
  readonly scaled: Float64Array;
  readonly means: Float64Array;
  /** Population standard deviations (divide by n); 0 for a constant column. */
  readonly stds: Float64Array;
}

/** Column-wise z-scores of an n×d row-major matrix (two-pass, population std). */
export function zScore(points: Float64Array, d: number): ZScored {
  const n = checkMatrix(points, d);
  const means = new Float64Array(d);
  const stds = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) means[j] += points[i * d + j];
  if (n > 0) for (let j = 0; j < d; j++) means[j] /= n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const diff = points[i * d + j] - means[j];
      stds[j] += diff * diff;
    }
  }
  for (let j = 0; j < d; j++) stds[j] = n > 0 ? Math.sqrt(stds[j] / n) : 0;
  const scaled = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      scaled[i * d + j] = stds[j] > 0 ? (points[i * d + j] - means[j]) / stds[j] : 0;
    }
  }
  return Object.freeze({ scaled, means, stds });
}

/** Back to original units: x = z·std + mean (e.g. centroids for display). */
export function unscale(scaled: Float64Array, d: number, means: ArrayLike<number>, stds: ArrayLike<number>): Float64Array {
  const out = new Float64Array(scaled.length);
  for (let i = 0; i < scaled.length; i++) {
    const j = i % d;
    out[i] = scaled[i] * stds[j] + means[j];
  }
  return out;
}
