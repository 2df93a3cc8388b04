/**
 * centralIntervalOf: the quantiles of centralInterval from the few smallest
 * and largest values, kept in one pass. The same numbers bit for bit, on
 * values in any order, with ties, infinities and NaN.
 */
import { describe, expect, it } from 'vitest';
import { centralInterval, centralIntervalOf, quantileOfSorted, seededUniform } from '../../src/models/parameterDraws.js';

describe('centralIntervalOf', () => {
  const random = seededUniform(11);

  it.each([1, 2, 3, 10, 40, 46, 47, 100, 200, 201])('gives centralInterval\'s numbers for %i values, at levels 0.5, 0.8, 0.9, 0.95 and 0.99', (count) => {
    for (const level of [0.5, 0.8, 0.9, 0.95, 0.99]) {
      const interval = centralIntervalOf(count, level);
      const out = new Float64Array(2);
      for (let trial = 0; trial < 30; trial++) {
        // Ties in every other trial; a log-normal spread otherwise, as draws' ratios are.
        const values = Float64Array.from({ length: count }, () => (trial % 2 ? Math.floor(random() * count * 0.3) : Math.exp(random() * 4 - 2)));
        const before = Float64Array.from(values);
        interval(values, out);
        const sorted = Float64Array.from(values).sort();
        const expected = centralInterval(Float64Array.from(values), level);
        expect([out[0], out[1]], `level ${level}, trial ${trial}`).toEqual([expected.low, expected.high]);
        // Independently of centralInterval: R's type 7 on the sorted values.
        expect(out[0]).toBe(quantileOfSorted(sorted, (1 - level) / 2));
        expect(out[1]).toBe(quantileOfSorted(sorted, (1 + level) / 2));
        expect(Array.from(values)).toEqual(Array.from(before));
      }
    }
  });

  it('takes values in ascending and in descending order, infinities among them', () => {
    const out = new Float64Array(2);
    const ascending = Float64Array.from({ length: 46 }, (_, i) => i);
    ascending[45] = Number.POSITIVE_INFINITY;
    ascending[0] = Number.NEGATIVE_INFINITY;
    const sorted = Float64Array.from(ascending);
    for (const values of [ascending, Float64Array.from(ascending).reverse()]) {
      centralIntervalOf(46, 0.9)(values, out);
      expect([out[0], out[1]]).toEqual([quantileOfSorted(sorted, (1 - 0.9) / 2), quantileOfSorted(sorted, (1 + 0.9) / 2)]);
    }
  });

  it('gives NaN for both ends when a value is NaN, wherever it is', () => {
    const out = new Float64Array(2);
    for (const at of [0, 20, 45]) {
      const values = Float64Array.from({ length: 46 }, (_, i) => i);
      values[at] = Number.NaN;
      centralIntervalOf(46, 0.9)(values, out);
      expect([out[0], out[1]]).toEqual([Number.NaN, Number.NaN]);
    }
  });
});
