import { describe, expect, it } from 'vitest';
import { mean, standardDeviation } from 'simple-statistics';
import { KMeansError, mulberry32, restartSeed, sampleIndices } from '../../src/models/kmeans.js';
import { adjustedRandIndex, unscale, zScore } from './kmeansHelpers.js';

describe('adjustedRandIndex', () => {
  it('matches known values', () => {
    expect(adjustedRandIndex([0, 0, 1, 1], [1, 1, 0, 0])).toBe(1);
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 2])).toBeCloseTo(0.5714285714285715, 12); // scikit-learn docs
    expect(adjustedRandIndex([0, 0, 0, 0], [0, 1, 2, 3])).toBe(0); // scikit-learn docs
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1])).toBeCloseTo(-0.5, 12);
    expect(adjustedRandIndex([5, 5, 5], [1, 1, 1])).toBe(1);
    expect(adjustedRandIndex(Int32Array.from([2, 2, 7]), Float64Array.from([0, 0, 1]))).toBe(1);
  });

  it('rejects labelings of different lengths', () => {
    expect(() => adjustedRandIndex([0, 1], [0])).toThrow(KMeansError);
  });
});

describe('zScore', () => {
  it('scales columns to mean 0 and population std 1, constant columns to 0', () => {
    const points = Float64Array.from([1, 5, 10, 2, 5, 20, 3, 5, 60, 4, 5, 30]);
    const { scaled, means, stds } = zScore(points, 3);
    const col = (m: ArrayLike<number>, j: number) => Array.from({ length: 4 }, (_, i) => m[i * 3 + j]);
    for (const j of [0, 2]) {
      expect(means[j]).toBeCloseTo(mean(col(points, j)), 12);
      expect(stds[j]).toBeCloseTo(standardDeviation(col(points, j)), 12); // population std
      expect(mean(col(scaled, j))).toBeCloseTo(0, 12);
      expect(standardDeviation(col(scaled, j))).toBeCloseTo(1, 12);
    }
    expect(means[1]).toBe(5);
    expect(stds[1]).toBe(0);
    expect(col(scaled, 1)).toEqual([0, 0, 0, 0]);
    expect(points[0]).toBe(1); // input untouched
    const back = unscale(scaled, 3, means, stds);
    for (let i = 0; i < points.length; i++) expect(back[i]).toBeCloseTo(points[i], 12);
  });
});

describe('sampleIndices and seeds', () => {
  it('draws a sorted, distinct, deterministic sample', () => {
    const s = sampleIndices(10_000, 500, 9);
    expect(s).toHaveLength(500);
    for (let i = 1; i < s.length; i++) expect(s[i]).toBeGreaterThan(s[i - 1]);
    expect(s[0]).toBeGreaterThanOrEqual(0);
    expect(s[s.length - 1]).toBeLessThan(10_000);
    expect(sampleIndices(10_000, 500, 9)).toEqual(s);
    expect(sampleIndices(10_000, 500, 10)).not.toEqual(s);
    expect(Array.from(sampleIndices(3, 5, 1))).toEqual([0, 1, 2]);
  });

  it('mulberry32 and restartSeed are pure functions of their seeds', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
    expect(restartSeed(42, 0)).toBe(restartSeed(42, 0));
    expect(restartSeed(42, 0)).not.toBe(restartSeed(42, 1));
    expect(Number.isInteger(restartSeed(-7, 3)) && restartSeed(-7, 3) >= 0).toBe(true);
  });
});
