import { describe, expect, it } from 'vitest';
import { KMeansError } from '../../src/models/kmeans.js';
import { chooseK, silhouetteScore } from '../../src/models/kmeansChoice.js';
import { blobs, chooseKFindsTrueK, FOUR_CENTERS } from './blobs.js';

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
