/**
 * k-means and the silhouette on thousands of points: ~20 s each under
 * Stryker's instrumentation (the silhouette is O(n²)), so apart from
 * kmeansChoice.test.ts, which checks the same on a few hundred points (scripts/mutate.mjs).
 */
import { describe, expect, it } from 'vitest';
import { silhouetteScore } from '../../src/models/kmeansChoice.js';
import { blobs, chooseKFindsTrueK, FOUR_CENTERS } from './blobs.js';

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
  chooseKFindsTrueK(1_500);
});
