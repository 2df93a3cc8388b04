import { describe, expect, it } from 'vitest';
import { mean, standardDeviation } from 'simple-statistics';
import {
  adjustedRandIndex,
  assignNearest,
  chooseK,
  clusterLabel,
  computeInertia,
  fitKMeans,
  KMeansError,
  mulberry32,
  restartSeed,
  sampleIndices,
  silhouetteScore,
  unscale,
  zScore,
} from '../../src/models/kmeans.js';
import { blobs, chooseKFindsTrueK, FOUR_CENTERS } from './blobs.js';

/** Seeded Fisher–Yates permutation of 0..n-1. */
function permutation(n: number, seed: number): Int32Array {
  const random = mulberry32(seed);
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

function permuteRows(points: Float64Array, d: number, order: ArrayLike<number>): Float64Array {
  const out = new Float64Array(points.length);
  for (let r = 0; r < order.length; r++) {
    for (let j = 0; j < d; j++) out[r * d + j] = points[order[r] * d + j];
  }
  return out;
}

// ---------------------------------------------------------------------------

describe('fitKMeans', () => {
  it('recovers 4 well-separated blobs in 3-D (ARI ≥ 0.99)', () => {
    const { points, truth, d } = blobs(FOUR_CENTERS, 2_000, 1);
    const { scaled } = zScore(points, d);
    const model = fitKMeans(scaled, d, { k: 4, seed: 42 });
    expect(model.k).toBe(4);
    expect(model.d).toBe(3);
    expect(model.centroids).toHaveLength(12);
    expect(model.sampleSize).toBe(2_000);
    expect(model.iterations).toBeGreaterThan(0);
    const labels = assignNearest(scaled, d, model.centroids, model.k);
    expect(adjustedRandIndex(labels, truth)).toBeGreaterThanOrEqual(0.99);
    expect(model.inertia).toBeCloseTo(computeInertia(scaled, d, model.centroids, model.k), 6);
    expect(Object.isFrozen(model)).toBe(true);
  });

  it('returns centroids in canonical (lexicographic) order', () => {
    const { points, d } = blobs(FOUR_CENTERS, 800, 2);
    const { centroids, k } = fitKMeans(points, d, { k: 4, seed: 7 });
    for (let c = 1; c < k; c++) {
      const prev = Array.from(centroids.subarray((c - 1) * d, c * d));
      const cur = Array.from(centroids.subarray(c * d, (c + 1) * d));
      const firstDiff = prev.findIndex((v, j) => v !== cur[j]);
      expect(prev[firstDiff]).toBeLessThan(cur[firstDiff]);
    }
  });

  it('is deterministic: rows permuted and then sorted by their key give identical centroids and labels', () => {
    const { points, d } = blobs(FOUR_CENTERS, 1_500, 3);
    const n = points.length / d;
    // customer keys in sorted order are the row numbers; a loader delivers them shuffled
    const keys = Array.from({ length: n }, (_, i) => `C${String(i).padStart(7, '0')}`);
    const shuffled = permutation(n, 99);
    const shuffledPoints = permuteRows(points, d, shuffled);
    const shuffledKeys = Array.from(shuffled, (i) => keys[i]);
    // the caller sorts by customer_id before fitting
    const bySortedKey = Array.from({ length: n }, (_, r) => r).sort((a, b) =>
      shuffledKeys[a] < shuffledKeys[b] ? -1 : shuffledKeys[a] > shuffledKeys[b] ? 1 : 0,
    );
    const resorted = permuteRows(shuffledPoints, d, bySortedKey);
    expect(resorted).toEqual(points);

    const a = fitKMeans(points, d, { k: 4, seed: 11 });
    const b = fitKMeans(resorted, d, { k: 4, seed: 11 });
    expect(Array.from(b.centroids)).toEqual(Array.from(a.centroids)); // bit-for-bit
    expect(b.inertia).toBe(a.inertia);
    expect(b.iterations).toBe(a.iterations);
    expect(assignNearest(resorted, d, b.centroids, 4)).toEqual(assignNearest(points, d, a.centroids, 4));
  });

  it('gives the same clusters up to relabelling for a different row order (n ≤ sampleSize)', () => {
    const { points, truth, d } = blobs(FOUR_CENTERS, 1_200, 4);
    const n = points.length / d;
    const order = permutation(n, 5);
    const shuffled = permuteRows(points, d, order);
    const a = fitKMeans(points, d, { k: 4, seed: 1 });
    const b = fitKMeans(shuffled, d, { k: 4, seed: 1 });
    const labelsA = assignNearest(points, d, a.centroids, 4);
    const labelsBShuffled = assignNearest(shuffled, d, b.centroids, 4);
    const labelsB = new Int32Array(n);
    for (let r = 0; r < n; r++) labelsB[order[r]] = labelsBShuffled[r];
    expect(adjustedRandIndex(labelsA, labelsB)).toBe(1);
    expect(adjustedRandIndex(labelsA, truth)).toBe(1);
    // canonical centroid order makes even the numbering agree here
    for (let i = 0; i < a.centroids.length; i++) expect(b.centroids[i]).toBeCloseTo(a.centroids[i], 9);
  });

  it('fits on a seeded sample when n > sampleSize', () => {
    const { points, truth, d } = blobs(FOUR_CENTERS, 5_000, 6);
    const a = fitKMeans(points, d, { k: 4, seed: 3, sampleSize: 600 });
    expect(a.sampleSize).toBe(600);
    const labels = assignNearest(points, d, a.centroids, 4);
    expect(adjustedRandIndex(labels, truth)).toBeGreaterThanOrEqual(0.99);
    // same seed, same sample, same model
    const again = fitKMeans(points, d, { k: 4, seed: 3, sampleSize: 600 });
    expect(Array.from(again.centroids)).toEqual(Array.from(a.centroids));
    // inertia is over the sample, so smaller than over all points
    expect(a.inertia).toBeLessThan(computeInertia(points, d, a.centroids, 4));
    // another seed draws another sample but finds the same blobs
    const b = fitKMeans(points, d, { k: 4, seed: 4, sampleSize: 600 });
    expect(adjustedRandIndex(assignNearest(points, d, b.centroids, 4), labels)).toBeGreaterThanOrEqual(0.99);
  });

  it('keeps the best restart: never worse than the first restart alone', () => {
    const { points, d } = blobs(
      [
        [0, 0],
        [3, 0],
        [0, 3],
        [3, 3],
        [1.5, 1.5],
      ],
      1_000,
      8,
    );
    const one = fitKMeans(points, d, { k: 5, seed: 21, restarts: 1 });
    const many = fitKMeans(points, d, { k: 5, seed: 21, restarts: 6 });
    expect(one.restart).toBe(0);
    expect(many.inertia).toBeLessThanOrEqual(one.inertia);
  });

  it('rejects k out of range with a KMeansError', () => {
    const { points, d } = blobs(FOUR_CENTERS, 10, 9);
    expect(() => fitKMeans(points, d, { k: 11, seed: 1 })).toThrow(KMeansError);
    expect(() => fitKMeans(points, d, { k: 11, seed: 1 })).toThrow(/k = 11 is more than the 10 customers/);
    expect(() => fitKMeans(points, d, { k: 0, seed: 1 })).toThrow(KMeansError);
    expect(() => fitKMeans(points, d, { k: 2.5, seed: 1 })).toThrow(KMeansError);
    expect(() => fitKMeans(points, d, { k: 11, seed: 1 })).toThrow(expect.objectContaining({ name: 'KMeansError', code: 'INVALID_K' }));
  });

  it('rejects k above the number of distinct points', () => {
    // 6 customers, only 2 distinct feature vectors
    const points = Float64Array.from([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1]);
    expect(() => fitKMeans(points, 2, { k: 3, seed: 1 })).toThrow(/k = 3 is more than the 2 distinct/);
    const ok = fitKMeans(points, 2, { k: 2, seed: 1 });
    expect(Array.from(ok.centroids)).toEqual([0, 0, 1, 1]);
    expect(ok.inertia).toBe(0);
  });

  it('rejects bad input and options', () => {
    const good = Float64Array.from([0, 1, 2, 3]);
    expect(() => fitKMeans(Float64Array.from([0, NaN, 2, 3]), 2, { k: 1, seed: 1 })).toThrow(/non-finite/);
    expect(() => fitKMeans(Float64Array.from([0, 1, 2]), 2, { k: 1, seed: 1 })).toThrow(/multiple of d/);
    expect(() => fitKMeans(good, 0, { k: 1, seed: 1 })).toThrow(KMeansError);
    expect(() => fitKMeans(good, 2, { k: 1, seed: 1.5 })).toThrow(/seed must be an integer/);
    // ml-kmeans would read 0 as "no limit"
    expect(() => fitKMeans(good, 2, { k: 1, seed: 1, maxIterations: 0 })).toThrow(/maxIterations/);
    expect(() => fitKMeans(good, 2, { k: 1, seed: 1, restarts: 0 })).toThrow(/restarts/);
    expect(() => fitKMeans(good, 2, { k: 1, seed: 1, sampleSize: 0 })).toThrow(/sampleSize/);
  });
});

describe('assignNearest', () => {
  it('assigns each point to the nearest centroid, ties to the lowest index', () => {
    const centroids = Float64Array.from([0, 0, 2, 0, 10, 10]);
    const points = Float64Array.from([0.1, 0, 1, 0 /* tie between 0 and 1 */, 1.9, 0.5, 9, 9]);
    expect(Array.from(assignNearest(points, 2, centroids, 3))).toEqual([0, 0, 1, 2]);
  });

  it('checks the centroid shape', () => {
    expect(() => assignNearest(Float64Array.from([0, 0]), 2, Float64Array.from([0, 0, 1]), 2)).toThrow(KMeansError);
  });
});

describe('silhouetteScore', () => {
  it('matches a hand computation', () => {
    // 1-D: cluster 0 = {0, 1}, cluster 1 = {4, 6}
    //   s(0) = (5 − 1) / 5       a = 1, b = (4 + 6) / 2
    //   s(1) = (4 − 1) / 4       a = 1, b = (3 + 5) / 2
    //   s(4) = (3.5 − 2) / 3.5   a = 2, b = (4 + 3) / 2
    //   s(6) = (5.5 − 2) / 5.5   a = 2, b = (6 + 5) / 2
    const points = Float64Array.from([0, 1, 4, 6]);
    const expected = (4 / 5 + 3 / 4 + 1.5 / 3.5 + 3.5 / 5.5) / 4;
    expect(silhouetteScore(points, 1, [0, 0, 1, 1], 2)).toBeCloseTo(expected, 12);
  });

  it('uses Euclidean distance in d dimensions and scores singletons 0', () => {
    // cluster 0 = {(0,0), (3,4)} (distance 5), cluster 1 = {(0,8)} alone
    //   s(0,0): a = 5, b = 8 → 3/8;  s(3,4): a = 5, b = 5 → 0;  s(0,8): singleton → 0
    const points = Float64Array.from([0, 0, 3, 4, 0, 8]);
    expect(silhouetteScore(points, 2, [0, 0, 1], 2)).toBeCloseTo(3 / 8 / 3, 12);
  });

  // kmeans.fit.test.ts: the same on 3,000 points.
  it('is high for separated blobs and deterministic on a sample (400 points)', () => {
    const { points, truth, d } = blobs(FOUR_CENTERS, 400, 10);
    const all = silhouetteScore(points, d, truth, 4, { sampleSize: 400 });
    const sampled = silhouetteScore(points, d, truth, 4, { sampleSize: 200, seed: 2 });
    expect(all).toBeGreaterThan(0.7);
    expect(Math.abs(sampled - all)).toBeLessThan(0.03);
    expect(silhouetteScore(points, d, truth, 4, { sampleSize: 200, seed: 2 })).toBe(sampled);
  });

  it('needs two non-empty clusters and valid labels', () => {
    const points = Float64Array.from([0, 1, 2]);
    expect(() => silhouetteScore(points, 1, [0, 0, 0], 2)).toThrow(/two non-empty clusters/);
    expect(() => silhouetteScore(points, 1, [0, 1, 2], 2)).toThrow(KMeansError);
    expect(() => silhouetteScore(points, 1, [0, 1], 2)).toThrow(/labels has 2 entries/);
  });
});

describe('chooseK', () => {
  chooseKFindsTrueK(300);

  it('scores a single candidate k (kMin = kMax); exact duplicates give silhouette 1', () => {
    const points = Float64Array.from([0, 0, 0, 10, 10, 10, 20, 20, 20]);
    const choice = chooseK(points, 1, { seed: 1, kMin: 3, kMax: 3 });
    expect(choice.k).toBe(3);
    expect(choice.scores).toEqual([{ k: 3, silhouette: 1 }]); // a = 0 for every point
  });

  it('validates the k range', () => {
    const { points, d } = blobs(FOUR_CENTERS, 50, 13);
    expect(() => chooseK(points, d, { seed: 1, kMin: 1 })).toThrow(KMeansError);
    expect(() => chooseK(points, d, { seed: 1, kMin: 4, kMax: 3 })).toThrow(KMeansError);
  });
});

describe('adjustedRandIndex', () => {
  it('matches known values', () => {
    expect(adjustedRandIndex([0, 0, 1, 1], [1, 1, 0, 0])).toBe(1);
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 2])).toBeCloseTo(0.5714285714285715, 12); // scikit-learn docs
    expect(adjustedRandIndex([0, 0, 0, 0], [0, 1, 2, 3])).toBe(0); // scikit-learn docs
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1])).toBeCloseTo(-0.5, 12);
    expect(adjustedRandIndex([5, 5, 5], [1, 1, 1])).toBe(1);
    expect(adjustedRandIndex(Int32Array.from([2, 2, 7]), Float64Array.from([0, 0, 1]))).toBe(1);
  });

  it('rejects labelings of different lengths', () => {
    expect(() => adjustedRandIndex([0, 1], [0])).toThrow(KMeansError);
  });
});

describe('zScore', () => {
  it('scales columns to mean 0 and population std 1, constant columns to 0', () => {
    const points = Float64Array.from([1, 5, 10, 2, 5, 20, 3, 5, 60, 4, 5, 30]);
    const { scaled, means, stds } = zScore(points, 3);
    const col = (m: ArrayLike<number>, j: number) => Array.from({ length: 4 }, (_, i) => m[i * 3 + j]);
    for (const j of [0, 2]) {
      expect(means[j]).toBeCloseTo(mean(col(points, j)), 12);
      expect(stds[j]).toBeCloseTo(standardDeviation(col(points, j)), 12); // population std
      expect(mean(col(scaled, j))).toBeCloseTo(0, 12);
      expect(standardDeviation(col(scaled, j))).toBeCloseTo(1, 12);
    }
    expect(means[1]).toBe(5);
    expect(stds[1]).toBe(0);
    expect(col(scaled, 1)).toEqual([0, 0, 0, 0]);
    expect(points[0]).toBe(1); // input untouched
    const back = unscale(scaled, 3, means, stds);
    for (let i = 0; i < points.length; i++) expect(back[i]).toBeCloseTo(points[i], 12);
  });
});

describe('sampleIndices and seeds', () => {
  it('draws a sorted, distinct, deterministic sample', () => {
    const s = sampleIndices(10_000, 500, 9);
    expect(s).toHaveLength(500);
    for (let i = 1; i < s.length; i++) expect(s[i]).toBeGreaterThan(s[i - 1]);
    expect(s[0]).toBeGreaterThanOrEqual(0);
    expect(s[s.length - 1]).toBeLessThan(10_000);
    expect(sampleIndices(10_000, 500, 9)).toEqual(s);
    expect(sampleIndices(10_000, 500, 10)).not.toEqual(s);
    expect(Array.from(sampleIndices(3, 5, 1))).toEqual([0, 1, 2]);
  });

  it('mulberry32 and restartSeed are pure functions of their seeds', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
    expect(restartSeed(42, 0)).toBe(restartSeed(42, 0));
    expect(restartSeed(42, 0)).not.toBe(restartSeed(42, 1));
    expect(Number.isInteger(restartSeed(-7, 3)) && restartSeed(-7, 3) >= 0).toBe(true);
  });
});

describe('clusterLabel', () => {
  const population = { recencyDays: 100, orders: 2, revenue: 100 };

  it('names clusters by their medians against the population medians', () => {
    expect(clusterLabel({ recencyDays: 10, orders: 5, revenue: 400 }, population)).toBe(
      'Recent · frequent · high value',
    );
    expect(clusterLabel({ recencyDays: 300, orders: 1, revenue: 20 }, population)).toBe(
      'Lapsed · one-off · low value',
    );
    expect(clusterLabel({ recencyDays: 100, orders: 2, revenue: 100 }, population)).toBe(
      'Cooling · regular · mid value',
    );
    expect(clusterLabel({ recencyDays: 120, orders: 3, revenue: 60 }, { recencyDays: 100, orders: 6, revenue: 100 })).toBe(
      'Cooling · infrequent · low value',
    );
  });

  it('uses strict thresholds: 0.5× and 2× recency, 1.5× and 1/1.5× orders and revenue', () => {
    const label = (p: Partial<typeof population>) => clusterLabel({ ...population, ...p }, population);
    expect(label({ recencyDays: 49.9 })).toMatch(/^Recent/);
    expect(label({ recencyDays: 50 })).toMatch(/^Cooling/);
    expect(label({ recencyDays: 200 })).toMatch(/^Cooling/);
    expect(label({ recencyDays: 200.1 })).toMatch(/^Lapsed/);
    expect(label({ revenue: 150 })).toMatch(/mid value$/);
    expect(label({ revenue: 150.01 })).toMatch(/high value$/);
    expect(label({ revenue: 66.67 })).toMatch(/mid value$/);
    expect(label({ revenue: 66.66 })).toMatch(/low value$/);
    expect(label({ orders: 3 })).toMatch(/· regular ·/); // 3 = 1.5 × 2, not above
    expect(label({ orders: 3.5 })).toMatch(/· frequent ·/);
    // symmetric: 2 vs a median of 3 is as "mid" as 3 vs a median of 2
    expect(clusterLabel({ ...population, orders: 2 }, { ...population, orders: 3 })).toMatch(/· regular ·/);
  });

  it('handles zero and non-positive medians', () => {
    const zero = { recencyDays: 0, orders: 1, revenue: 0 };
    expect(clusterLabel({ recencyDays: 0, orders: 1, revenue: 0 }, zero)).toBe('Recent · one-off · mid value');
    expect(clusterLabel({ recencyDays: 3, orders: 4, revenue: 5 }, zero)).toBe('Lapsed · frequent · high value');
    expect(clusterLabel({ recencyDays: 3, orders: 1, revenue: -5 }, zero)).toBe('Lapsed · one-off · low value');
  });

  it('rejects non-finite numbers', () => {
    expect(() => clusterLabel({ recencyDays: NaN, orders: 1, revenue: 1 }, population)).toThrow(KMeansError);
    expect(() => clusterLabel(population, { ...population, revenue: Infinity })).toThrow(/population.revenue/);
  });
});
