/**
 * clvFactors against its definition on a set of CDNOW patterns: clv.test.ts
 * runs these on every 10th pattern, clv.fit.test.ts on all of them (seconds
 * under Stryker's instrumentation, so left out of its runs: scripts/mutate.mjs).
 */
import { expect, it } from 'vitest';
import * as bgNbd from '../../src/models/bgNbd.js';
import { clvFactors } from '../../src/models/clv.js';
import * as paretoNbd from '../../src/models/paretoNbd.js';
import type { BgNbdParams, ParetoNbdParams, PurchasePatterns } from '../../src/models/types.js';
import { relativeError } from './cdnowPatterns.js';

export const BG: BgNbdParams = { r: 0.2426, alpha: 4.4137, a: 0.793, b: 2.4259 };
export const PN: ParetoNbdParams = { r: 0.5533, alpha: 10.5777, s: 0.6062, beta: 11.6685 };
export const MONTH_WEEKS = 30 / 7;

/** The definition, term by term, from the scalar conditional expectations. */
export function discountFactorByDefinition(
  expectedPurchases: (t: number) => number,
  horizonMonths: number,
  rate: number,
  month: number,
): number {
  let factor = 0;
  for (let k = 1; k <= horizonMonths; k++) factor += (expectedPurchases(k * month) - expectedPurchases((k - 1) * month)) / (1 + rate) ** k;
  return factor;
}

/** The definition checks, as tests of the describe this is called in; `which` names the patterns in their titles. */
export function clvFactorDefinitionTests(patterns: PurchasePatterns, which: string): void {
  it(`BG/NBD: equals Σ_k (E[X(k)] − E[X(k−1)]) / (1+d)^k for ${which}`, () => {
    const p = patterns;
    const result = clvFactors('bgnbd', BG, p);
    for (let i = 0; i < p.frequency.length; i++) {
      const byDefinition = discountFactorByDefinition(
        (t) => (t === 0 ? 0 : bgNbd.conditionalExpectedPurchases(BG, t, p.frequency[i], p.recency[i], p.T[i])),
        12,
        0.01,
        MONTH_WEEKS,
      );
      expect(relativeError(result.discountFactor[i], byDefinition)).toBeLessThan(1e-10);
      expect(relativeError(result.expectedPurchases[i], bgNbd.conditionalExpectedPurchases(BG, 12 * MONTH_WEEKS, p.frequency[i], p.recency[i], p.T[i]))).toBeLessThan(1e-12);
      expect(result.pAlive[i]).toBe(bgNbd.conditionalProbabilityAlive(BG, p.frequency[i], p.recency[i], p.T[i]));
    }
  });

  it('Pareto/NBD: same definition', () => {
    const p = patterns;
    const result = clvFactors('paretonbd', PN, p, { horizonMonths: 6, monthlyDiscountRate: 0.02 });
    for (let i = 0; i < p.frequency.length; i += 3) {
      const byDefinition = discountFactorByDefinition(
        (t) => paretoNbd.conditionalExpectedPurchases(PN, t, p.frequency[i], p.recency[i], p.T[i]),
        6,
        0.02,
        MONTH_WEEKS,
      );
      expect(relativeError(result.discountFactor[i], byDefinition)).toBeLessThan(1e-12);
      expect(relativeError(result.pAlive[i], paretoNbd.conditionalProbabilityAlive(PN, p.frequency[i], p.recency[i], p.T[i]))).toBeLessThan(1e-15);
    }
  });

  it('without discounting the factor is the expected purchases over the horizon', () => {
    const result = clvFactors('bgnbd', BG, patterns, { monthlyDiscountRate: 0 });
    for (let i = 0; i < result.discountFactor.length; i++) {
      expect(relativeError(result.discountFactor[i], result.expectedPurchases[i])).toBeLessThan(1e-12);
    }
    // Discounting only lowers it.
    const discounted = clvFactors('bgnbd', BG, patterns);
    for (let i = 0; i < discounted.discountFactor.length; i++) expect(discounted.discountFactor[i]).toBeLessThan(result.discountFactor[i]);
  });

  it('does not depend on the time unit (days, weeks, months with rescaled α, β)', () => {
    const p = patterns;
    const scale = (v: Float64Array, k: number) => v.map((x) => x * k);
    const inWeeks = clvFactors('bgnbd', BG, p, { timeUnit: 'week' });
    const inDays = clvFactors('bgnbd', { ...BG, alpha: BG.alpha * 7 }, { frequency: p.frequency, recency: scale(p.recency, 7), T: scale(p.T, 7) }, { timeUnit: 'day' });
    const inMonths = clvFactors(
      'bgnbd',
      { ...BG, alpha: (BG.alpha * 7) / 30 },
      { frequency: p.frequency, recency: scale(p.recency, 7 / 30), T: scale(p.T, 7 / 30) },
      { timeUnit: 'month' },
    );
    const pnWeeks = clvFactors('paretonbd', PN, p);
    const pnDays = clvFactors(
      'paretonbd',
      { ...PN, alpha: PN.alpha * 7, beta: PN.beta * 7 },
      { frequency: p.frequency, recency: scale(p.recency, 7), T: scale(p.T, 7) },
      { timeUnit: 'day' },
    );
    for (let i = 0; i < p.frequency.length; i++) {
      expect(relativeError(inDays.discountFactor[i], inWeeks.discountFactor[i])).toBeLessThan(1e-10);
      expect(relativeError(inMonths.discountFactor[i], inWeeks.discountFactor[i])).toBeLessThan(1e-10);
      expect(relativeError(pnDays.discountFactor[i], pnWeeks.discountFactor[i])).toBeLessThan(1e-10);
    }
  });
}
