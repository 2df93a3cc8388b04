/**
 * k-means++ seeding and the distinct-row count on inputs whose answer does
 * not depend on the random draws (or follows from the first draw alone).
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/models/kmeans.js';
import { countDistinctRows } from '../../src/models/kmeansFit.js';
import { kMeansPlusPlus } from '../../src/models/kmeansSeeding.js';

describe('countDistinctRows', () => {
  const points = Float64Array.from([0, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1]);
  it('counts rows that differ in any column, stopping at the limit', () => {
    expect(countDistinctRows(points, 2, 10)).toBe(4);
    expect(countDistinctRows(points, 2, 3)).toBe(3);
    expect(countDistinctRows(points, 2, 1)).toBe(1);
    // Read as 1-D, the same values are just 0 and 1.
    expect(countDistinctRows(points, 1, 10)).toBe(2);
  });
});

describe('kMeansPlusPlus', () => {
  const sorted = (centres: Float64Array) => [...centres].sort((a, b) => a - b);

  it('with k = the number of distinct points, picks each once: a point already a centre has weight 0', () => {
    const points = Float64Array.from([9, 0, 0, 5, 9, 9, 0, 5]);
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) expect(sorted(kMeansPlusPlus(points, 1, 3, seed))).toEqual([0, 5, 9]);
  });

  it('starts from the point the first draw picks, ⌊u·n⌋', () => {
    const points = Float64Array.from([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    for (const seed of [11, 12, 13]) {
      const first = Math.floor(mulberry32(seed)() * 10);
      expect(kMeansPlusPlus(points, 1, 1, seed)[0]).toBe(10 * first);
    }
  });

  it('keeps, of its local trials, the candidate that leaves the least inertia', () => {
    // Two groups {0, 1, 2} and {100, 101, 102}. Whatever the first centre, the best second one
    // is the middle of the other group (inertia 2 + 2 against 2 + 5); with 200 trials it is drawn.
    const points = Float64Array.from([0, 1, 2, 100, 101, 102]);
    for (const seed of [1, 2, 3, 4]) {
      const [first, second] = kMeansPlusPlus(points, 1, 2, seed, 200);
      expect(second).toBe(first < 50 ? 101 : 1);
    }
  });

  it('works on rows of d columns', () => {
    const points = Float64Array.from([0, 0, 0, 0, 5, 5, 5, 5, 0, 7]);
    const centres = kMeansPlusPlus(points, 2, 3, 42);
    const rows = [0, 1, 2].map((c) => `${centres[2 * c]},${centres[2 * c + 1]}`).sort();
    expect(rows).toEqual(['0,0', '0,7', '5,5']);
  });
});
