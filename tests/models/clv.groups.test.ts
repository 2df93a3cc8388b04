/**
 * clvFactors' and aliveFactors' per-model dispatch and input checks.
 *
 * MBG/NBD's expected purchases while alive are BG/NBD's with b + 1: given
 * alive, a customer with x repeat purchases has survived x + 1 drop-out
 * chances under MBG/NBD (one after each purchase, the first included) and x
 * under BG/NBD, so p's posterior is Beta(a, b + x + 1) against Beta(a, b + x)
 * (Batislam, Denizel & Filiztekin 2007, against Fader, Hardie & Lee 2005 eq. 10).
 */
import { describe, expect, it } from 'vitest';
import { aliveFactors, clvFactors } from '../../src/models/clv.js';

describe('aliveFactors for MBG/NBD', () => {
  it('equals BG/NBD’s with b + 1, month by month of the horizon', () => {
    const groups = { frequency: Float64Array.of(0, 1, 4, 12), T: Float64Array.of(10, 30, 39, 52) };
    const options = { horizonMonths: 6, monthlyDiscountRate: 0.01 };
    const mbg = aliveFactors('mbgnbd', { r: 0.5, alpha: 6, a: 0.9, b: 1.6 }, groups, options);
    const bg = aliveFactors('bgnbd', { r: 0.5, alpha: 6, a: 0.9, b: 2.6 }, groups, options);
    for (let j = 0; j < 4; j++) {
      expect(mbg.expectedPurchases[j]).toBeGreaterThan(0);
      expect(mbg.expectedPurchases[j]).toBeCloseTo(bg.expectedPurchases[j], 12);
      expect(mbg.discountFactor[j]).toBeCloseTo(bg.discountFactor[j], 12);
    }
  });
});

describe('clvFactors input checks', () => {
  const P = { r: 1, alpha: 2, a: 1, b: 3 };

  it('refuses a T column shorter than frequency and recency', () => {
    const patterns = { frequency: Float64Array.of(0, 1), recency: Float64Array.of(0, 1), T: Float64Array.of(2) };
    expect(() => clvFactors('bgnbd', P, patterns)).toThrow('arrays must have equal lengths (frequency=2, recency=2, T=1)');
  });

  it('refuses a recency column shorter than frequency and T', () => {
    const patterns = { frequency: Float64Array.of(0, 1), recency: Float64Array.of(0), T: Float64Array.of(2, 2) };
    expect(() => clvFactors('bgnbd', P, patterns)).toThrow('arrays must have equal lengths (frequency=2, recency=1, T=2)');
  });
});
