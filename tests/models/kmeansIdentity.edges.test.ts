/** Cluster identity's edges: empty runs, the distances in d columns, and what the checks say. */
import { describe, expect, it } from 'vitest';
import { KMeansError } from '../../src/models/kmeans.js';
import { clusterIds, optimalAssignment, squaredDistances } from '../../src/models/kmeansIdentity.js';

describe('squaredDistances', () => {
  it('sums the squared differences over every column, for each pair of rows', () => {
    // a: (0, 0, 0), (1, 2, 3); b: (1, 1, 1), (4, 6, 3).
    const got = squaredDistances(Float64Array.of(0, 0, 0, 1, 2, 3), Float64Array.of(1, 1, 1, 4, 6, 3), 3);
    expect(Array.from(got)).toEqual([3, 16 + 36 + 9, 0 + 1 + 4, 9 + 16 + 0]);
  });
});

describe('optimalAssignment edges', () => {
  it('assigns nothing when either side is empty', () => {
    expect(Array.from(optimalAssignment(new Float64Array(0), 3, 0))).toEqual([-1, -1, -1]);
    expect(Array.from(optimalAssignment(new Float64Array(0), 0, 4))).toEqual([]);
  });

  it('says what is wrong with the cost matrix', () => {
    expect(() => optimalAssignment(Float64Array.of(1, 2, 3), 2, 2)).toThrow(new KMeansError('INVALID_INPUT', 'cost has 3 values, expected 2×2'));
    expect(() => optimalAssignment(Float64Array.of(1, Number.POSITIVE_INFINITY), 1, 2)).toThrow(
      new KMeansError('INVALID_INPUT', 'cost has a non-finite value (Infinity)'),
    );
  });

  it('pairs a single row with its cheapest column, ties to the lowest column', () => {
    expect(Array.from(optimalAssignment(Float64Array.of(4, 2, 7, 2), 1, 4))).toEqual([1]);
    expect(Array.from(optimalAssignment(Float64Array.of(4, 2, 7, 2), 4, 1))).toEqual([-1, 0, -1, -1]);
  });
});

describe('clusterIds edges', () => {
  it('numbers the clusters 1..k in the given order when there was no previous run', () => {
    expect(clusterIds(Float64Array.of(5, 1, 3), new Float64Array(0), [], 1)).toEqual([1, 2, 3]);
  });

  it('refuses previous centroids that do not match their numbers', () => {
    expect(() => clusterIds(Float64Array.of(0, 0), Float64Array.of(1, 2, 3), [1, 2], 2)).toThrow(
      new KMeansError('INVALID_INPUT', 'previous has 3 values for 2 clusters of 2 features'),
    );
  });
});
