/**
 * k-means and the silhouette on thousands of points: ~20 s each under
 * Stryker's instrumentation (the silhouette is O(n²)), so apart from
 * kmeans.test.ts, which checks the same on a few hundred points (scripts/mutate.mjs).
 */
import { describe, expect, it } from 'vitest';
import { adjustedRandIndex, assignNearest, chooseK, silhouetteScore, zScore } from '../../src/models/kmeans.js';
import { blobs, FOUR_CENTERS } from './blobs.js';

describe('silhouetteScore on 3,000 points', () => {
  it('is high for separated blobs and deterministic on a sample', () => {
    const { points, truth, d } = blobs(FOUR_CENTERS, 3_000, 10);
    const all = silhouetteScore(points, d, truth, 4, { sampleSize: 3_000 });
    const sampled = silhouetteScore(points, d, truth, 4, { sampleSize: 500, seed: 2 });
    expect(all).toBeGreaterThan(0.7);
    expect(Math.abs(sampled - all)).toBeLessThan(0.03);
    expect(silhouetteScore(points, d, truth, 4, { sampleSize: 500, seed: 2 })).toBe(sampled);
  });
});

describe('chooseK on 1,500 points', () => {
  const fiveCenters = [
    [0, 0, 0],
    [12, 0, 0],
    [0, 12, 0],
    [0, 0, 12],
    [12, 12, 12],
  ];

  it.each([
    { k: 3, centers: FOUR_CENTERS.slice(0, 3) },
    { k: 5, centers: fiveCenters },
  ])('finds the true k = $k by silhouette', ({ k, centers }) => {
    const { points, truth, d } = blobs(centers, 1_500, 12);
    const { scaled } = zScore(points, d);
    const choice = chooseK(scaled, d, { seed: 5 });
    expect(choice.k).toBe(k);
    expect(choice.scores.map((s) => s.k)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    const best = Math.max(...choice.scores.map((s) => s.silhouette));
    expect(choice.scores.find((s) => s.k === k)?.silhouette).toBe(best);
    expect(choice.model.k).toBe(k);
    const labels = assignNearest(scaled, d, choice.model.centroids, k);
    expect(adjustedRandIndex(labels, truth)).toBeGreaterThanOrEqual(0.99);
  });
});
