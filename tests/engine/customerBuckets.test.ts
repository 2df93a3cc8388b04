/**
 * How many buckets of customers the features stage runs in on DuckDB
 * (DESIGN §7): enough that each bucket's share of the customer-day rows
 * needs at most the buffer pool, at 32 pool bytes a row; the pool is 70% of
 * --memory-limit. Figures worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import { customerBucketsFor, DuckDbEngine } from '../../src/engine/duckdb/DuckDbEngine.js';

describe('customer buckets', () => {
  it('one bucket while the rows fit the pool, then one more per pool-full', () => {
    expect(customerBucketsFor(0, 2.4e9)).toBe(1);
    // 75M rows × 32 B = 2.4e9 B: exactly the pool.
    expect(customerBucketsFor(75e6, 2.4e9)).toBe(1);
    expect(customerBucketsFor(75e6 + 1, 2.4e9)).toBe(2);
    // 100M rows × 32 B = 3.2e9 B over 2.4e9: 1.33, so 2.
    expect(customerBucketsFor(100e6, 2.4e9)).toBe(2);
    // 1B rows × 32 B = 32e9 B over 2.4e9: 13.3, so 14.
    expect(customerBucketsFor(1e9, 2.4e9)).toBe(14);
  });

  it('takes the pool from --memory-limit: 70% of 3GB is 2.1e9 bytes, of 3GiB 2.25e9', async () => {
    for (const [limit, buckets] of [
      // 32e9 / 2.1e9 = 15.2: 16.
      ['3GB', 16],
      // 32e9 / (0.7 × 3 × 2^30) = 14.2: 15.
      ['3GiB', 15],
      // 32e9 / (0.7 × 64e9) = 0.71: 1.
      ['64GB', 1],
    ] as const) {
      const engine = await DuckDbEngine.create({ memoryLimit: limit, threads: 1 });
      try {
        expect(engine.customerBuckets(1e9), limit).toBe(buckets);
      } finally {
        await engine.close();
      }
    }
  });
});
