/**
 * k-means++ on rows of two columns: with k = the number of distinct rows,
 * each row is picked once whatever the draws (a row already a centre has
 * weight 0), so the distances must be taken between whole rows, column by
 * column. The rows are chosen so that mixing up columns or rows changes
 * which rows look alike (one row is (1, 0), another (0, 1)).
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/models/kmeans.js';
import { kMeansPlusPlus } from '../../src/models/kmeansSeeding.js';

const rowsOf = (centres: Float64Array) => Array.from({ length: centres.length / 2 }, (_, c) => `${centres[2 * c]},${centres[2 * c + 1]}`).sort();

describe('kMeansPlusPlus on rows of d = 2', () => {
  it('picks each distinct row once, for every seed', () => {
    const points = Float64Array.from([1, 0, 0, 1, 1, 0, 4, 4, 0, 1, 4, 0]);
    for (let seed = 1; seed <= 40; seed++) expect(rowsOf(kMeansPlusPlus(points, 2, 4, seed)), `seed ${seed}`).toEqual(['0,1', '1,0', '4,0', '4,4']);
  });
});

describe('kMeansPlusPlus with more centres than distinct points', () => {
  // fitKMeans refuses k above the distinct rows; called directly, once every point is a
  // centre all weights are 0, the draw runs off the top and steps back to the first point.
  it('puts the extra centres on the first point', () => {
    for (let seed = 1; seed <= 8; seed++) expect([...kMeansPlusPlus(Float64Array.from([0, 0, 0, 7]), 1, 3, seed)].sort(), `seed ${seed}`).toEqual([0, 0, 7]);
  });
});

describe('kMeansPlusPlus first centre', () => {
  it('is row ⌊u·n⌋ of the first draw u, for every seed', () => {
    const points = Float64Array.from([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    for (let seed = 1; seed <= 40; seed++) expect(kMeansPlusPlus(points, 1, 1, seed)[0], `seed ${seed}`).toBe(10 * Math.floor(mulberry32(seed)() * 10));
  });
});
