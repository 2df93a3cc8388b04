/** Memory sizes as DuckDB reads them, and the default memory limit's arithmetic (schema.ts). */
import { describe, expect, it } from 'vitest';
import { defaultMemoryLimit, sizeInBytes } from '../../src/config/schema.js';

describe('memory sizes', () => {
  it('read decimal units as powers of 1000 and binary ones as powers of 1024, any case, spaces allowed', () => {
    expect(sizeInBytes('3GB')).toBe(3_000_000_000);
    expect(sizeInBytes('512mb')).toBe(512_000_000);
    expect(sizeInBytes('3GiB')).toBe(3 * 1024 * 1024 * 1024);
    expect(sizeInBytes(' 1.5 MiB ')).toBe(1.5 * 1024 * 1024);
    expect(sizeInBytes('100KB')).toBe(100_000);
  });

  it('are not a bare number, a percentage, a negative size or an unknown unit', () => {
    for (const text of ['3', '80%', '-1GB', '3 gigs', 'GB', '']) expect(sizeInBytes(text), text).toBe(null);
  });
});

describe('the default memory limit', () => {
  it('is 75% of the memory after 1 GiB for Node, in whole MiB, and never under 256 MiB', () => {
    // 8 GiB: 0.75 × 7 GiB = 5376 MiB.
    expect(defaultMemoryLimit(8 * 2 ** 30)).toBe('5376MiB');
    // 2 GiB: 0.75 × 1 GiB = 768 MiB.
    expect(defaultMemoryLimit(2 * 2 ** 30)).toBe('768MiB');
    // 1.3 GiB: 0.75 × 0.3 GiB = 230.4 MiB, under the floor.
    expect(defaultMemoryLimit(1.3 * 2 ** 30)).toBe('256MiB');
    expect(defaultMemoryLimit(1 * 2 ** 30)).toBe('256MiB');
  });
});
