/**
 * `--k auto` on points whose silhouettes are worked out by hand: three
 * groups of three identical values, 0, 10 and 20 (1-D).
 *
 * k = 3: every point sits on its own group's others (a = 0): s = 1.
 * k = 2: both optimal splits, {0} {10, 20} or {0, 10} {20}, score alike by
 * symmetry; for the first: the 0s have a = 0, s = 1; the 10s a = (0+0+10+10+10)/5 = 6,
 * b = 10, s = 0.4; the 20s a = 6, b = 20, s = 0.7; mean (3 + 1.2 + 2.1)/9 = 0.7.
 */
import { describe, expect, it } from 'vitest';
import { KMeansError } from '../../src/models/kmeans.js';
import { chooseK, silhouetteScore } from '../../src/models/kmeansChoice.js';

const points = Float64Array.from([0, 0, 0, 10, 10, 10, 20, 20, 20]);

describe('chooseK over k = 2..3', () => {
  it('scores each k and keeps the best silhouette', () => {
    const choice = chooseK(points, 1, { seed: 4, kMin: 2, kMax: 3 });
    expect(choice.scores.map((s) => s.k)).toEqual([2, 3]);
    expect(choice.scores[0]!.silhouette).toBeCloseTo(0.7, 12);
    expect(choice.scores[1]!.silhouette).toBe(1);
    expect(choice.k).toBe(3);
    expect(Array.from(choice.model.centroids)).toEqual([0, 10, 20]);
  });

  it('keeps k = 2 when it is the only candidate', () => {
    const choice = chooseK(points, 1, { seed: 4, kMin: 2, kMax: 2 });
    expect(choice.k).toBe(2);
    expect(choice.model.k).toBe(2);
  });

  it('says which end of the k range is wrong', () => {
    expect(() => chooseK(points, 1, { seed: 1, kMin: 1 })).toThrow(
      new KMeansError('INVALID_K', 'kMin must be an integer ≥ 2 (silhouette needs two clusters), got 1'),
    );
    expect(() => chooseK(points, 1, { seed: 1, kMin: 3, kMax: 2 })).toThrow(new KMeansError('INVALID_K', 'kMax must be an integer ≥ kMin = 3, got 2'));
    expect(() => chooseK(points, 1, { seed: 1, kMin: 2.5 })).toThrow(KMeansError);
    expect(() => chooseK(points, 1, { seed: 1, kMin: 2, kMax: 3.5 })).toThrow(KMeansError);
  });
});

describe('silhouetteScore checks', () => {
  it('names the label out of range and the point it belongs to', () => {
    expect(() => silhouetteScore(points, 1, [0, 0, 0, 1, 1, 1, 2, 2, 3], 3)).toThrow(new KMeansError('INVALID_INPUT', 'label 3 of point 8 is not in 0..2'));
    expect(() => silhouetteScore(points, 1, [0, 0], 2)).toThrow(new KMeansError('INVALID_INPUT', 'labels has 2 entries for 9 points'));
    expect(() => silhouetteScore(points, 1, [1, 1, 1, 1, 1, 1, 1, 1, 1], 3)).toThrow(
      new KMeansError('INVALID_INPUT', 'silhouette needs at least two non-empty clusters'),
    );
  });

  it('is the hand-computed 0.7 for the split {0} {10, 20}', () => {
    expect(silhouetteScore(points, 1, [0, 0, 0, 1, 1, 1, 1, 1, 1], 2)).toBeCloseTo(0.7, 12);
  });
});
