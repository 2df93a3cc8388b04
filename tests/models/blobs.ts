/** Test data for k-means: Gaussian blobs from a seeded PRNG. */
import { mulberry32 } from '../../src/models/kmeans.js';

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
