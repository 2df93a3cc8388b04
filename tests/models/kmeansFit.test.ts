import { describe, expect, it } from 'vitest';
import { KMeansError, mulberry32 } from '../../src/models/kmeans.js';
import { assignNearest, computeInertia, fitKMeans } from '../../src/models/kmeansFit.js';
import { blobs, FOUR_CENTERS } from './blobs.js';
import { adjustedRandIndex, zScore } from './kmeansHelpers.js';

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
