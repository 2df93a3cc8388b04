/**
 * clvFactors with MBG/NBD: its P(alive), not BG/NBD's, in every factor. A
 * one-time buyer is where they differ: 1 under BG/NBD, and under MBG/NBD
 * 1 / (1 + a/b · ((α+T)/α)^r) (Batislam et al. 2007; they may drop out
 * right after the first purchase).
 */
import { describe, expect, it } from 'vitest';
import { clvFactors } from '../../src/models/clv.js';

// r = 1, α = 2, a = 1, b = 3: a one-time buyer at T = 2 has 1 / (1 + (1/3) · 2) = 0.6.
const P = { r: 1, alpha: 2, a: 1, b: 3 };

describe('clvFactors for MBG/NBD', () => {
  it('gives a one-time buyer P(alive) 1/(1 + a/b ((α+T)/α)^r), below BG/NBD’s 1', () => {
    const patterns = { frequency: Float64Array.of(0, 2), recency: Float64Array.of(0, 1), T: Float64Array.of(2, 2) };
    const mbg = clvFactors('mbgnbd', P, patterns);
    const bg = clvFactors('bgnbd', P, patterns);
    expect(mbg.pAlive[0]).toBeCloseTo(0.6, 15);
    expect(bg.pAlive[0]).toBe(1);
    // x = 2, t_x = 1, T = 2: 1 / (1 + a/(b+x) · ((α+T)/(α+t_x))^(r+x)) = 1 / (1 + (1/5)(4/3)³) = 135/199.
    expect(mbg.pAlive[1]).toBeCloseTo(135 / 199, 15);
  });
});
