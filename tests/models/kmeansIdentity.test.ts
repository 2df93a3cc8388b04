import { describe, expect, it } from 'vitest';
import { KMeansError } from '../../src/models/kmeans.js';
import { clusterIds, optimalAssignment, squaredDistances } from '../../src/models/kmeansIdentity.js';

/** The least total cost over every assignment, by brute force (rows ≤ columns). */
function bruteForce(cost: number[][]): number {
  const n = cost.length;
  const m = cost[0]!.length;
  let best = Infinity;
  const walk = (row: number, used: Set<number>, total: number) => {
    if (row === n) {
      best = Math.min(best, total);
      return;
    }
    for (let j = 0; j < m; j++) {
      if (used.has(j)) continue;
      used.add(j);
      walk(row + 1, used, total + cost[row]![j]!);
      used.delete(j);
    }
  };
  walk(0, new Set(), 0);
  return best;
}

describe('optimalAssignment', () => {
  it('takes the least total, not the nearest pair first', () => {
    // 1-D, previous centroids at 0 and 3, new ones at 2 and 5. Nearest first pairs 2 with 3 (1), leaving 5 with 0 (25): 26.
    // The optimum pairs 2 with 0 (4) and 5 with 3 (4): 8.
    const cost = squaredDistances(Float64Array.from([2, 5]), Float64Array.from([0, 3]), 1);
    expect(Array.from(cost)).toEqual([4, 1, 25, 4]);
    expect(Array.from(optimalAssignment(cost, 2, 2))).toEqual([0, 1]);
  });

  it('leaves the rows over when there are more rows than columns, and assigns every row when fewer', () => {
    // 3×2: rows (5, 1), (9, 2), (7, 3). Of the six pairings, rows 0 → 0 and 1 → 1 cost least (5 + 2 = 7; next 1 + 7 = 8).
    const cost = Float64Array.from([5, 1, 9, 2, 7, 3]);
    expect(Array.from(optimalAssignment(cost, 3, 2))).toEqual([0, 1, -1]);
    // 2×3: rows (5, 1, 9), (2, 7, 3): 0 → 1 and 1 → 0 cost 1 + 2 = 3, the least.
    const wide = Float64Array.from([5, 1, 9, 2, 7, 3]);
    expect(Array.from(optimalAssignment(wide, 2, 3))).toEqual([1, 0]);
  });

  it('finds the brute-force optimum on seeded random matrices', () => {
    let state = 17;
    const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let trial = 0; trial < 60; trial++) {
      const n = 1 + (trial % 5);
      const m = n + (trial % 3);
      const cost = Array.from({ length: n }, () => Array.from({ length: m }, () => Math.round(random() * 20)));
      const assigned = optimalAssignment(Float64Array.from(cost.flat()), n, m);
      expect(new Set(assigned).size).toBe(n);
      expect(Array.from(assigned).reduce((s, j, i) => s + cost[i]![j]!, 0)).toBe(bruteForce(cost));
    }
  });

  it('refuses a cost matrix of the wrong size or with NaN', () => {
    expect(() => optimalAssignment(Float64Array.from([1, 2, 3]), 2, 2)).toThrow(KMeansError);
    expect(() => optimalAssignment(Float64Array.from([1, NaN, 3, 4]), 2, 2)).toThrow(KMeansError);
  });
});

describe('clusterIds', () => {
  it('gives each new cluster the number of the previous cluster it is paired with', () => {
    // Previous: 1 at (0, 0), 2 at (10, 0), 3 at (0, 10). New, in revenue order: near 3, near 1, near 2.
    const previous = Float64Array.from([0, 0, 10, 0, 0, 10]);
    const current = Float64Array.from([0.5, 9, 1, -1, 9, 0.5]);
    expect(clusterIds(current, previous, [1, 2, 3], 2)).toEqual([3, 1, 2]);
  });

  it('numbers clusters with no counterpart (k grew) after every previous number, in the given order', () => {
    // Previous numbers 2 and 5 (others gone); new clusters: near 5, far away, near 2, far away.
    const previous = Float64Array.from([0, 10]);
    const current = Float64Array.from([9, 50, 1, 70]);
    expect(clusterIds(current, previous, [2, 5], 1)).toEqual([5, 6, 2, 7]);
  });

  it('keeps the matched numbers when k shrank', () => {
    const previous = Float64Array.from([0, 10, 20]);
    expect(clusterIds(Float64Array.from([19, 1]), previous, [1, 2, 3], 1)).toEqual([3, 1]);
  });
});
