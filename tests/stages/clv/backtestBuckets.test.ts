/** backtestBuckets: the per-bucket totals of crm backtest, from counted groups, worked out by hand. */
import { describe, expect, it } from 'vitest';
import { backtestBuckets } from '../../../src/stages/clv/stage.js';

describe('backtestBuckets', () => {
  it('adds customers, actual and predicted purchase days and absolute and squared errors per bucket', () => {
    const rows = backtestBuckets([
      // Bucket 0: 3 customers predicted 0.5 with 0 purchases, 1 with 2 purchases.
      { bucket: 0, predicted: 0.5, actual: 0, customers: 3 },
      { bucket: 0, predicted: 0.5, actual: 2, customers: 1 },
      // Bucket 7 (7+): two patterns.
      { bucket: 7, predicted: 4, actual: 5, customers: 2 },
      { bucket: 7, predicted: 6, actual: 3, customers: 1 },
    ]);
    expect(rows).toEqual([
      // predicted 4 × 0.5 = 2; |0 − 0.5| × 3 + |2 − 0.5| × 1 = 3; squared 0.25 × 3 + 2.25 = 3
      { bucket: 0, customers: 4, actual: 2, predicted: 2, abs_error: 3, squared_error: 3, unpredicted: 0 },
      // actual 2 × 5 + 3 = 13; predicted 2 × 4 + 6 = 14; errors 2 × 1 + 3 = 5; squared 2 × 1 + 9 = 11
      { bucket: 7, customers: 3, actual: 13, predicted: 14, abs_error: 5, squared_error: 11, unpredicted: 0 },
    ]);
  });

  it('gives a bucket with an unpredicted customer no predicted total, and leaves the other buckets theirs', () => {
    const rows = backtestBuckets([
      { bucket: 1, predicted: 1.5, actual: 1, customers: 2 },
      { bucket: 1, predicted: null, actual: 3, customers: 1 },
      { bucket: 2, predicted: 2, actual: 2, customers: 1 },
    ]);
    expect(rows).toEqual([
      { bucket: 1, customers: 3, actual: 5, predicted: null, abs_error: null, squared_error: null, unpredicted: 1 },
      { bucket: 2, customers: 1, actual: 2, predicted: 2, abs_error: 0, squared_error: 0, unpredicted: 0 },
    ]);
  });
});
