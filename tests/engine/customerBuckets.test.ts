/**
 * How many buckets of customers the features stage runs in on DuckDB
 * (DESIGN §7): enough that each bucket's share of the customer-day rows
 * needs at most the buffer pool, at 32 pool bytes a row; the pool is 80% of
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

  it('takes the pool from --memory-limit: 80% of 3GB is 2.4e9 bytes, of 3GiB 2.58e9', async () => {
    for (const [limit, buckets] of [
      ['3GB', 14],
      // 32e9 / (0.8 × 3 × 2^30) = 12.4: 13.
      ['3GiB', 13],
      // 32e9 / (0.8 × 64e9) = 0.63: 1.
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
