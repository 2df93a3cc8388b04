/** fitKMeans' options and results on inputs small enough to work out by hand. */
import { describe, expect, it } from 'vitest';
import { KMeansError } from '../../src/models/kmeans.js';
import { assignNearest, computeInertia, fitKMeans } from '../../src/models/kmeansFit.js';

describe('computeInertia', () => {
  it('sums each point’s squared distance to its nearest centroid', () => {
    // 0 and 1 to 0.5, 9 and 10 to 9.5: 4 × 0.25; in 2-D (0, 0) and (3, 4) to (0, 0): 0 + 25.
    expect(computeInertia(Float64Array.of(0, 1, 9, 10), 1, Float64Array.of(0.5, 9.5), 2)).toBe(1);
    expect(computeInertia(Float64Array.of(0, 0, 3, 4), 2, Float64Array.of(0, 0, 10, 10), 2)).toBe(0 + 25);
  });
});

describe('fitKMeans results', () => {
  it('orders centroids by their first coordinate, then the next one', () => {
    // Two groups at (1, 5) and (1, 0): alike in the first coordinate.
    const points = Float64Array.of(1, 5, 1, 0, 1, 5, 1, 0);
    const model = fitKMeans(points, 2, { k: 2, seed: 3 });
    expect(Array.from(model.centroids)).toEqual([1, 0, 1, 5]);
    expect(model.inertia).toBe(0);
    expect(model.k).toBe(2);
    expect(model.d).toBe(2);
    expect(model.sampleSize).toBe(4);
    expect(model.converged).toBe(true);
  });

  it('reports the size of the sample it was fitted on', () => {
    const points = Float64Array.from({ length: 40 }, (_, i) => i % 4);
    expect(fitKMeans(points, 1, { k: 2, seed: 5, sampleSize: 25 }).sampleSize).toBe(25);
    expect(fitKMeans(points, 1, { k: 2, seed: 5, sampleSize: 40 }).sampleSize).toBe(40);
  });
});

describe('fitKMeans checks', () => {
  const good = Float64Array.of(0, 1, 2, 3);

  it('says what is wrong with tolerance and k', () => {
    expect(() => fitKMeans(good, 1, { k: 1, seed: 1, tolerance: -1 })).toThrow(new KMeansError('INVALID_OPTION', 'tolerance must be ≥ 0, got -1'));
    expect(() => fitKMeans(good, 1, { k: 1, seed: 1, tolerance: Number.NaN })).toThrow(KMeansError);
    expect(fitKMeans(good, 1, { k: 1, seed: 1, tolerance: 0 }).centroids[0]).toBe(1.5);
    expect(() => fitKMeans(good, 1, { k: 0, seed: 1 })).toThrow(new KMeansError('INVALID_K', 'k must be an integer ≥ 1, got 0'));
    expect(fitKMeans(good, 1, { k: 4, seed: 1 }).inertia).toBe(0);
    expect(() => fitKMeans(good, 1, { k: 5, seed: 1 })).toThrow(new KMeansError('INVALID_K', 'k = 5 is more than the 4 customers (points)'));
  });

  it('names the sample when it, not the data, has too few distinct rows', () => {
    // 30 rows, two distinct values, 29 of them 0: a sample of 3 has at most 2 distinct rows.
    const points = Float64Array.from({ length: 30 }, (_, i) => (i === 29 ? 1 : 0));
    expect(() => fitKMeans(points, 1, { k: 3, seed: 2, sampleSize: 3 })).toThrow(/^k = 3 is more than the [12] distinct feature vectors in the sample of 3$/);
    expect(() => fitKMeans(points, 1, { k: 3, seed: 2 })).toThrow(new KMeansError('INVALID_K', 'k = 3 is more than the 2 distinct feature vectors'));
  });

  it('assignNearest says what shape the centroids should have', () => {
    expect(() => assignNearest(good, 2, Float64Array.of(0, 0, 1), 2)).toThrow(new KMeansError('INVALID_INPUT', 'centroids has 3 values, expected k×d = 4'));
  });
});
