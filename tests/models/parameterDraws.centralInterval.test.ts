/** centralInterval on values holding NaN (no interval: NaN for both ends, wherever the NaN is), and centralIntervalOf at level 1 (the minimum and the maximum). */
import { describe, expect, it } from 'vitest';
import { centralInterval, centralIntervalOf } from '../../src/models/parameterDraws.js';

describe('centralInterval with a NaN among the values', () => {
  for (const values of [
    [Number.NaN, 1, 2, 3, 4],
    [1, 2, Number.NaN, 3, 4],
    [1, 2, 3, 4, Number.NaN],
  ]) {
    it(`[${values.join(', ')}]`, () => {
      const { low, high } = centralInterval(Float64Array.from(values), 0.9);
      expect(low).toBeNaN();
      expect(high).toBeNaN();
    });
  }
});

describe('centralIntervalOf at level 1', () => {
  it('is the smallest and the largest value (the 0 and 1 quantiles)', () => {
    const out = new Float64Array(2);
    centralIntervalOf(10, 1)(Float64Array.from([5, 3, 9, 1, 7, 2, 8, 6, 4, 0]), out);
    expect(Array.from(out)).toEqual([0, 9]);
  });
});
