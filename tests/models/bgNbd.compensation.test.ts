/**
 * The BG/NBD likelihood adds its per-pattern terms in blocks of 512 and the
 * blocks with Neumaier compensation. Plain summation drops a block whose sum
 * is below half an ulp of the running total; these cases make that loss large
 * enough to see: one customer of weight 2^60 (a whole base folded into one
 * pattern) next to blocks of ordinary customers whose sums, about −58 each,
 * are below half an ulp of 2^60·ln 2 (64).
 *
 * With α = 1 every r log α term is 0, and a one-time buyer's log-likelihood is
 * A₃ = −r log(1+T) exactly (FHL 2005 eq. 6 with x = 0: A₁ = A₂ = 0), so the
 * heavy customer's term is written down by hand; the others are summed as
 * the textbook per-customer terms, small enough to add plainly.
 */
import { describe, expect, it } from 'vitest';
import { bgNbdLogLikelihood } from '../../src/models/bgNbd.js';
import type { BgNbdParams } from '../../src/models/types.js';
import { patterns, textbookBgNbdLogLikelihood } from './cdnowPatterns.js';

type Row = [x: number, tx: number, T: number, w: number];

const HEAVY = 2 ** 60;
/** Weight of the customers that only fill the heavy customer's block: their terms are ~1e-31. */
const NEGLIGIBLE = 1e-30;


/**
 * A block of 512 ordinary customers (weight 1): one-time buyers with T ≈ 0.12
 * (512 · log 1.12 ≈ 58), or x = 1 with T ≈ 0.06 and t_x = 0.03, who are more
 * likely alive (2 · 512 · log 1.06 ≈ 60).
 */
const ordinaryBlock = (x: number): Row[] =>
  Array.from({ length: 512 }, (_, i): Row => (x === 0 ? [0, 0, 0.12 - 0.0001 * (i % 7), 1] : [1, 0.03, 0.06 - 0.0001 * (i % 7), 1]));

/** The heavy one-time buyer (T = 1) first in its block, the rest of the block nearly weightless. */
const heavyBlock = (): Row[] => [[0, 0, 1, HEAVY], ...Array.from({ length: 511 }, (): Row => [0, 0, 1, NEGLIGIBLE])];
const blocks = (count: number, x: number): Row[] => Array.from({ length: count }, () => ordinaryBlock(x)).flat();

/** The exact log-likelihood: the heavy term by hand, the rest summed plainly (they total a few thousand). */
function expected(params: BgNbdParams, rows: Row[]): number {
  let rest = 0;
  let heavy = 0;
  for (const [x, tx, T, w] of rows) {
    if (w === HEAVY) heavy += -w * params.r * Math.log(1 + T);
    else rest += w * textbookBgNbdLogLikelihood(params, x, tx, T);
  }
  return heavy + rest;
}

describe('BG/NBD log-likelihood with one customer of weight 2^60 among ordinary ones', () => {
  const params = { r: 1, alpha: 1, a: 1, b: 2 };
  // Half an ulp of the heavy term (2^60 ln 2 ≈ 8e17) is 64: the rounding of the
  // last few additions stays within 3 ulps, while each lost block is ~50.
  const tolerance = 3 * 128;

  it('keeps every block added after the heavy customer (one-time and repeat buyers alike)', () => {
    // Sorted by frequency, the one-time buyers keep their order and come first:
    // a block of them, the heavy one, 10 more; then 10 blocks of x = 1 and a part block.
    const rows: Row[] = [...blocks(1, 0), ...heavyBlock(), ...blocks(10, 0), ...blocks(10, 1), ...ordinaryBlock(1).slice(0, 400)];
    const want = expected(params, rows);
    // Plain summation would lose the ~21 blocks after the heavy customer: ~1,200.
    expect(Math.abs(bgNbdLogLikelihood(params, patterns(rows)) - want)).toBeLessThan(tolerance);
  });
});
