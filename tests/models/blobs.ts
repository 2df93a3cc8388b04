/** Test data for k-means: Gaussian blobs from a seeded PRNG, and the checks run on them at two sizes. */
import { it, expect } from 'vitest';
import { mulberry32 } from '../../src/models/kmeans.js';
import { chooseK } from '../../src/models/kmeansChoice.js';
import { assignNearest } from '../../src/models/kmeansFit.js';
import { adjustedRandIndex, zScore } from './kmeansHelpers.js';

export interface Blobs {
  points: Float64Array;
  truth: Int32Array;
  d: number;
}

/** n points around `centers` (k×d), sd 1, round-robin membership, seeded. */
export function blobs(centers: number[][], n: number, seed: number): Blobs {
  const d = centers[0].length;
  const random = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const points = new Float64Array(n * d);
  const truth = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % centers.length;
    truth[i] = c;
    for (let j = 0; j < d; j++) points[i * d + j] = centers[c][j] + gauss();
  }
  return { points, truth, d };
}

export const FOUR_CENTERS = [
  [0, 0, 0],
  [10, 0, 0],
  [0, 10, 0],
  [0, 0, 10],
];

const FIVE_CENTERS = [
  [0, 0, 0],
  [12, 0, 0],
  [0, 12, 0],
  [0, 0, 12],
  [12, 12, 12],
];

/** chooseK's tests on `n` points of 3 and of 5 blobs: it finds the true k by silhouette (kmeansChoice.test.ts small, kmeansChoice.fit.test.ts large). */
export function chooseKFindsTrueK(n: number): void {
  it.each([
    { k: 3, centers: FOUR_CENTERS.slice(0, 3) },
    { k: 5, centers: FIVE_CENTERS },
  ])(`finds the true k = $k by silhouette (${n} points)`, ({ k, centers }) => {
    const { points, truth, d } = blobs(centers, n, 12);
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
}
