/** The silhouette coefficient and the choice of k by it (`--k auto`). */
import { checkMatrix, checkPositiveInt, checkSeed, gatherRows, KMeansError, restartSeed, sampleIndices } from './kmeans.js';
import { assignNearest, fitKMeans, KMEANS_DEFAULTS, type KMeansModel } from './kmeansFit.js';


export interface SilhouetteOptions {
  /** Score at most this many points (seeded sample); O(m²·d). Default 5,000. */
  readonly sampleSize?: number;
  /** Seed of the sample. Default 0. */
  readonly seed?: number;
}

export const SILHOUETTE_DEFAULT_SAMPLE = 5_000;

/**
 * Mean silhouette coefficient (Rousseeuw 1987) with Euclidean distance, on a
 * seeded sample of at most `sampleSize` points (all of them when n is
 * smaller). For a point i in cluster A: a = mean distance to the other
 * sampled points of A, b = smallest mean distance to the sampled points of
 * another cluster, s = (b − a) / max(a, b); s = 0 when i is alone in its
 * cluster (as scikit-learn does). Needs at least two non-empty clusters.
 */
export function silhouetteScore(
  points: Float64Array,
  d: number,
  labels: ArrayLike<number>,
  k: number,
  options: SilhouetteOptions = {},
): number {
  const n = checkMatrix(points, d);
  if (labels.length !== n) {
    throw new KMeansError('INVALID_INPUT', `labels has ${labels.length} entries for ${n} points`);
  }
  const sampleSize = options.sampleSize ?? SILHOUETTE_DEFAULT_SAMPLE;
  const seed = options.seed ?? 0;
  checkPositiveInt(sampleSize, 'sampleSize');
  checkSeed(seed);
  const idx = sampleIndices(n, sampleSize, seed);
  const m = idx.length;
  const x = gatherRows(points, d, idx);
  const lab = new Int32Array(m);
  const sizes = new Float64Array(k);
  for (let r = 0; r < m; r++) {
    const l = labels[idx[r]];
    if (!Number.isInteger(l) || l < 0 || l >= k) {
      throw new KMeansError('INVALID_INPUT', `label ${l} of point ${idx[r]} is not in 0..${k - 1}`);
    }
    lab[r] = l;
    sizes[l]++;
  }
  let nonEmpty = 0;
  // Stryker disable next-line EqualityOperator: `<=` only adds a pass one past the end of a typed array (reads undefined, so NaN or a false comparison; writes ignored)
  for (let c = 0; c < k; c++) {
    if (sizes[c] > 0) nonEmpty++;
  }
  if (nonEmpty < 2) {
    throw new KMeansError('INVALID_INPUT', 'silhouette needs at least two non-empty clusters');
  }

  // sums[r*k + c] = Σ distance from sampled point r to sampled points of cluster c
  const sums = new Float64Array(m * k);
  // Stryker disable next-line EqualityOperator: `<=` only adds a pass one past the end of a typed array (reads undefined, so NaN or a false comparison; writes ignored)
  for (let a = 0; a < m; a++) {
    const pa = a * d;
    const la = lab[a];
    // Stryker disable next-line EqualityOperator: `<=` only adds a pass one past the end of a typed array (reads undefined, so NaN or a false comparison; writes ignored)
    for (let b = a + 1; b < m; b++) {
      const pb = b * d;
      let s = 0;
      for (let j = 0; j < d; j++) {
        const diff = x[pa + j] - x[pb + j];
        s += diff * diff;
      }
      const dist = Math.sqrt(s);
      sums[a * k + lab[b]] += dist;
      sums[b * k + la] += dist;
    }
  }
  let total = 0;
  // Stryker disable next-line EqualityOperator: `<=` only adds a pass one past the end of a typed array (reads undefined, so NaN or a false comparison; writes ignored)
  for (let r = 0; r < m; r++) {
    const own = lab[r];
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a singleton's a = 0/0 = NaN makes max(a, b) NaN, and the term below 0 anyway
    if (sizes[own] <= 1) continue; // s = 0
    const a = sums[r * k + own] / (sizes[own] - 1);
    let b = Infinity;
    // Stryker disable next-line EqualityOperator: `<=` only adds a pass one past the end of a typed array (reads undefined, so NaN or a false comparison; writes ignored)
    for (let c = 0; c < k; c++) {
      if (c === own) continue;
      // Stryker disable next-line ConditionalExpression: an empty cluster's mean is 0/0 = NaN, which `mean < b` passes over anyway
      if (sizes[c] === 0) continue;
      const mean = sums[r * k + c] / sizes[c];
      // Stryker disable next-line EqualityOperator: at a tie b is the same value
      if (mean < b) b = mean;
    }
    const denom = Math.max(a, b);
    total += denom > 0 ? (b - a) / denom : 0;
  }
  return total / m;
}

export interface ChooseKOptions {
  readonly kMin?: number;
  readonly kMax?: number;
  readonly seed: number;
  /** Fitting sample per k (as {@link KMeansOptions.sampleSize}). */
  readonly sampleSize?: number;
  readonly restarts?: number;
  readonly maxIterations?: number;
  readonly tolerance?: number;
  /** Points scored by the silhouette (one seeded sample shared by all k). */
  readonly silhouetteSampleSize?: number;
}

export interface KChoice {
  readonly k: number;
  readonly scores: ReadonlyArray<{ readonly k: number; readonly silhouette: number }>;
  /** The fitted model for the chosen k, so the caller need not fit again. */
  readonly model: KMeansModel;
}

/**
 * `--k auto`: fit k = kMin..kMax (defaults 2..8) and keep the best mean
 * silhouette; ties go to the smaller k. Every k is scored on the same seeded
 * sample of points.
 */
export function chooseK(points: Float64Array, d: number, options: ChooseKOptions): KChoice {
  const n = checkMatrix(points, d);
  const kMin = options.kMin ?? 2;
  const kMax = options.kMax ?? 8;
  if (!Number.isInteger(kMin) || kMin < 2) {
    throw new KMeansError('INVALID_K', `kMin must be an integer ≥ 2 (silhouette needs two clusters), got ${kMin}`);
  }
  if (!Number.isInteger(kMax) || kMax < kMin) {
    throw new KMeansError('INVALID_K', `kMax must be an integer ≥ kMin = ${kMin}, got ${kMax}`);
  }
  checkSeed(options.seed);
  const silhouetteSample = options.silhouetteSampleSize ?? SILHOUETTE_DEFAULT_SAMPLE;
  checkPositiveInt(silhouetteSample, 'silhouetteSampleSize');
  // A different stream from the fitting sample, derived from the same seed.
  const scoredIdx = sampleIndices(n, silhouetteSample, restartSeed(options.seed, -1));
  const scored = gatherRows(points, d, scoredIdx);

  // Draw the fitting sample once (fitKMeans would draw the same one per k).
  const sampleSize = options.sampleSize ?? KMEANS_DEFAULTS.sampleSize;
  checkPositiveInt(sampleSize, 'sampleSize');
  const fitted = n > sampleSize ? gatherRows(points, d, sampleIndices(n, sampleSize, options.seed)) : points;

  const scores: { k: number; silhouette: number }[] = [];
  let best: { k: number; silhouette: number; model: KMeansModel } | undefined;
  for (let k = kMin; k <= kMax; k++) {
    const model = fitKMeans(fitted, d, {
      k,
      seed: options.seed,
      restarts: options.restarts,
      maxIterations: options.maxIterations,
      tolerance: options.tolerance,
      sampleSize,
    });
    const labels = assignNearest(scored, d, model.centroids, k);
    let silhouette: number;
    try {
      silhouette = silhouetteScore(scored, d, labels, k, { sampleSize: scoredIdx.length, seed: 0 });
    } catch (error) {
      // all scored points in one cluster: no evidence for this k
      if (error instanceof KMeansError && error.code === 'INVALID_INPUT') silhouette = -1;
      else throw error;
    }
    scores.push({ k, silhouette });
    if (best === undefined || silhouette > best.silhouette) best = { k, silhouette, model };
  }
  const winner = best!;
  return Object.freeze({
    k: winner.k,
    scores: Object.freeze(scores.map((s) => Object.freeze(s))),
    model: winner.model,
  });
}
