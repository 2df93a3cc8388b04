/**
 * The silhouette's and `--k auto`'s edges, each worked out by hand: option
 * and label checks with their messages, points whose own and nearest other
 * cluster are both at distance 0, and a k whose scored points all fall in
 * one cluster.
 */
import { describe, expect, it } from 'vitest';
import { KMeansError } from '../../src/models/kmeans.js';
import { chooseK, silhouetteScore } from '../../src/models/kmeansChoice.js';

const points = Float64Array.from([0, 0, 0, 10, 10, 10, 20, 20, 20]);

describe('silhouetteScore edges', () => {
  it('names the sample size it refuses', () => {
    expect(() => silhouetteScore(points, 1, [0, 0, 0, 1, 1, 1, 1, 1, 1], 2, { sampleSize: 0 })).toThrow(
      new KMeansError('INVALID_OPTION', 'sampleSize must be a positive integer, got 0'),
    );
  });

  it('refuses a negative or fractional label', () => {
    expect(() => silhouetteScore(points, 1, [0, 0, 0, 1, 1, 1, 1, 1, -1], 2)).toThrow(new KMeansError('INVALID_INPUT', 'label -1 of point 8 is not in 0..1'));
    expect(() => silhouetteScore(points, 1, [0, 0, 0, 1, 1, 1, 1, 1, 0.5], 2)).toThrow(new KMeansError('INVALID_INPUT', 'label 0.5 of point 8 is not in 0..1'));
  });

  it('scores 0 a point whose own and nearest other cluster are both at distance 0 (a = b = 0)', () => {
    // Two clusters at the same place: s = (b − a) / max(a, b) is 0/0, taken as 0.
    expect(silhouetteScore(Float64Array.from([3, 3, 3, 3]), 1, [0, 0, 1, 1], 2)).toBe(0);
  });
});

describe('chooseK edges', () => {
  it('names the sample sizes it refuses', () => {
    expect(() => chooseK(points, 1, { seed: 1, silhouetteSampleSize: 0 })).toThrow(
      new KMeansError('INVALID_OPTION', 'silhouetteSampleSize must be a positive integer, got 0'),
    );
    expect(() => chooseK(points, 1, { seed: 1, sampleSize: 0 })).toThrow(new KMeansError('INVALID_OPTION', 'sampleSize must be a positive integer, got 0'));
  });

  it('scores −1 a k whose scored points all fall in one cluster, and keeps the smaller k of a tie', () => {
    // One scored point: it is in one cluster whatever k, so no k has evidence.
    const choice = chooseK(points, 1, { seed: 4, kMin: 2, kMax: 3, silhouetteSampleSize: 1 });
    expect(choice.scores).toEqual([
      { k: 2, silhouette: -1 },
      { k: 3, silhouette: -1 },
    ]);
    expect(choice.k).toBe(2);
    expect(choice.model.k).toBe(2);
  });
});
