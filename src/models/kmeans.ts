/**
 * k-means clusters maths (DESIGN.md §3 "k-means segment"): what every part
 * shares — its errors, its argument checks and its seeded randomness. Pure:
 * typed arrays in, immutable results out, no I/O. The parts, by concern:
 *
 * - kmeansSeeding.ts: k-means++ seeding ({@link kMeansPlusPlus});
 * - kmeansFit.ts: the fit ({@link fitKMeans}), assignment and inertia;
 * - kmeansChoice.ts: the silhouette and `--k auto` ({@link chooseK});
 * - kmeansLabels.ts: a cluster's label, from stated facts of its customers;
 * - kmeansIdentity.ts: which cluster of the previous run each new one is.
 *
 * Points are always a row-major `Float64Array` of n×d values (row i is
 * `points[i*d .. i*d+d-1]`). The caller builds the features
 * (log1p(recency_days), log1p(orders), log1p(max(revenue, 0)), …), z-scores
 * them, sorts the rows canonically, fits with fitKMeans (or chooseK for
 * `--k auto`) and assigns every customer in SQL.
 *
 * Determinism: every random choice comes from a seed, through
 * {@link mulberry32}: the sample and the k-means++ seeding (whose centres are
 * handed to ml-kmeans as its `initialization`, so ml-kmeans itself draws
 * nothing). Given the same points in the same order and the same options the
 * result is bit-for-bit identical; a different row order is a different input
 * (k-means++ picks by index), hence a canonical row order (the pipeline's
 * sample comes ordered by a seeded hash of `customer_id`).
 */
// ---------------------------------------------------------------------------
// Errors

export type KMeansErrorCode = 'INVALID_K' | 'INVALID_INPUT' | 'INVALID_OPTION';

/** A bad argument to the k-means functions (k out of range, NaN features…). */
export class KMeansError extends Error {
  override readonly name = 'KMeansError';
  readonly code: KMeansErrorCode;

  constructor(code: KMeansErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

// ---------------------------------------------------------------------------
// Seeded randomness

/**
 * mulberry32 (Tommy Ettinger, public domain): a 32-bit-state PRNG returning
 * floats in [0, 1) with 2^-32 resolution and a 2^32 period. Small, fast and
 * plenty for drawing samples; not for cryptography. The seed is taken
 * modulo 2^32.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Indices of a uniform random sample of `m` out of `n` items without
 * replacement, in increasing order (Knuth's selection sampling, Algorithm S,
 * TAOCP vol. 2 §3.4.2): one pass, one draw per item until the sample is
 * full. Increasing order keeps the caller's row order (customer_id) inside the
 * sample. Returns 0..n-1 when m ≥ n.
 */
export function sampleIndices(n: number, m: number, seed: number): Int32Array {
  // Stryker disable next-line EqualityOperator: at m = n the selection below takes every index in order too ((n − i)·u < n − i for u < 1)
  if (m >= n) {
    const all = new Int32Array(n);
    // Stryker disable next-line EqualityOperator: `<=` only adds a pass one past the end (reads undefined, so NaN; writes past the end of a typed array are ignored)
    for (let i = 0; i < n; i++) all[i] = i;
    return all;
  }
  const out = new Int32Array(m);
  const random = mulberry32(seed);
  let taken = 0;
  // Stryker disable next-line ConditionalExpression,EqualityOperator,LogicalOperator: either bound alone stops it: by i = n it has taken m (once n − i = m − taken every test passes), and once it has m no test passes (m − taken = 0)
  for (let i = 0; i < n && taken < m; i++) {
    // select item i with probability (still needed) / (still available)
    if ((n - i) * random() < m - taken) out[taken++] = i;
  }
  return out;
}

export function gatherRows(points: Float64Array, d: number, rows: Int32Array): Float64Array {
  const out = new Float64Array(rows.length * d);
  // Stryker disable next-line EqualityOperator: `<=` only adds a pass one past the end (reads undefined, so NaN; writes past the end of a typed array are ignored)
  for (let r = 0; r < rows.length; r++) {
    const src = rows[r] * d;
    // Stryker disable next-line EqualityOperator: `<=` writes one more value into the next row's first slot, which the next pass fills, or past the end of the array (ignored)
    for (let j = 0; j < d; j++) out[r * d + j] = points[src + j];
  }
  return out;
}

// ---------------------------------------------------------------------------
// Validation helpers

export function checkMatrix(points: Float64Array, d: number): number {
  if (!Number.isInteger(d) || d < 1) {
    throw new KMeansError('INVALID_INPUT', `dimension d must be a positive integer, got ${d}`);
  }
  if (points.length % d !== 0) {
    throw new KMeansError(
      'INVALID_INPUT',
      `points has ${points.length} values, not a multiple of d = ${d}`,
    );
  }
  for (let i = 0; i < points.length; i++) {
    if (!Number.isFinite(points[i])) {
      throw new KMeansError(
        'INVALID_INPUT',
        `point ${Math.floor(i / d)} has a non-finite value (${points[i]}) in column ${i % d}`,
      );
    }
  }
  return points.length / d;
}

export function checkSeed(seed: number, name = 'seed'): void {
  if (!Number.isSafeInteger(seed)) {
    throw new KMeansError('INVALID_OPTION', `${name} must be an integer, got ${seed}`);
  }
}

export function checkPositiveInt(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new KMeansError('INVALID_OPTION', `${name} must be a positive integer, got ${value}`);
  }
}

/**
 * Seed of restart `i`: a splitmix32-style mix of (seed, i), so nearby seeds
 * and restart numbers do not give correlated ml-kmeans streams. Always an
 * unsigned 32-bit integer (ml-random requires an integer); `seed` is taken
 * modulo 2^32.
 */
export function restartSeed(seed: number, i: number): number {
  let z = (Math.imul(seed | 0, 0x9e3779b9) + Math.imul(i + 1, 0x85ebca6b)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}
