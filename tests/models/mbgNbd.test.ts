/**
 * MBG/NBD maths without fitting (the CDNOW fit is in mbgNbd.fit.test.ts):
 * the vectorised log-likelihood against the textbook formula, its analytic
 * gradient against finite differences, and the predictions against
 * lifetimes' `ModifiedBetaGeoFitter` formulas written out here with a plain
 * hypergeometric series.
 */
import { describe, expect, it } from 'vitest';
import {
  conditionalExpectedPurchases,
  conditionalProbabilityAlive,
  expectedPurchases,
  fitMbgNbd,
  mbgNbdLogLikelihood,
  mbgNbdLogLikelihoodGradient,
  mbgNbdPatternLogLikelihood,
} from '../../src/models/mbgNbd.js';
import type { BgNbdParams } from '../../src/models/types.js';
import { centralDifferenceGradient, everyNth, loadCdnowCalibration, patterns, relativeError } from './cdnowPatterns.js';

const cdnow = loadCdnowCalibration();
const SMALL = everyNth(cdnow.patterns, 10);
// Batislam et al. (2007) on CDNOW, as BTYDplus / lifetimes report it.
const PUBLISHED: BgNbdParams = { r: 0.525, alpha: 6.183, a: 0.891, b: 1.614 };
const NAMES = ['r', 'alpha', 'a', 'b'] as const;

/** ₂F₁(a, b; c; z) by its defining series: fine for |z| ≤ 0.7 and moderate parameters. */
function naiveHyp2f1(a: number, b: number, c: number, z: number): number {
  let term = 1;
  let sum = 1;
  for (let k = 0; k < 5000; k++) {
    term *= ((a + k) * (b + k) * z) / ((c + k) * (k + 1));
    sum += term;
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
  }
  return sum;
}

/** lifetimes ModifiedBetaGeoFitter.conditional_expected_number_of_purchases_up_to_time, verbatim. */
function lifetimesConditional({ r, alpha, a, b }: BgNbdParams, t: number, x: number, tx: number, T: number): number {
  const hyp = naiveHyp2f1(r + x, b + x + 1, a + b + x, t / (alpha + T + t));
  const numerator = ((a + b + x) / (a - 1)) * (1 - hyp * ((alpha + T) / (alpha + t + T)) ** (r + x));
  return numerator / (1 + (a / (b + x)) * ((alpha + T) / (alpha + tx)) ** (r + x));
}

describe('MBG/NBD log-likelihood', () => {
  it('is the weighted sum of the per-pattern textbook formula', () => {
    const p = cdnow.patterns;
    let sum = 0;
    for (let i = 0; i < p.frequency.length; i++) sum += p.weight[i] * mbgNbdPatternLogLikelihood(PUBLISHED, p.frequency[i], p.recency[i], p.T[i]);
    expect(relativeError(mbgNbdLogLikelihood(PUBLISHED, p), sum)).toBeLessThan(1e-12);
  });

  it('gives a one-time buyer the dropout branch too (x = 0, worked by hand)', () => {
    // L = α^r [ (α+T)^−r + a/b · α^−r ] · b/(a+b): Γ(b+1)/Γ(b) = b, Γ(a+b)/Γ(a+b+1) = 1/(a+b).
    const { r, alpha, a, b } = PUBLISHED;
    const T = 30;
    const byHand = Math.log((alpha / (alpha + T)) ** r + a / b) + Math.log(b / (a + b));
    expect(mbgNbdPatternLogLikelihood(PUBLISHED, 0, 0, T)).toBeCloseTo(byHand, 12);
    expect(mbgNbdLogLikelihood(PUBLISHED, patterns([[0, 0, T, 3]]))).toBeCloseTo(3 * byHand, 11);
  });

  it.each<[string, BgNbdParams]>([
    ['the published optimum', PUBLISHED],
    ['small r and a', { r: 0.05, alpha: 2, a: 0.1, b: 0.3 }],
    ['large a and b', { r: 2, alpha: 20, a: 15, b: 40 }],
    ['a just above 1', { r: 0.8, alpha: 0.5, a: 1.0001, b: 5 }],
  ])('has an analytic gradient matching central differences at %s', (_name, at) => {
    const analytic = mbgNbdLogLikelihoodGradient(at, SMALL);
    const numeric = centralDifferenceGradient((q: BgNbdParams) => mbgNbdLogLikelihood(q, SMALL), { ...at }, NAMES);
    for (const name of NAMES) {
      expect(Math.abs(analytic[name] - numeric[name]), `${name}: ${analytic[name]} vs ${numeric[name]}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(numeric[name])));
    }
  });

  it('has a zero gradient at its own fit (so the gradient is the one the optimiser used)', () => {
    const fit = fitMbgNbd(SMALL);
    const g = mbgNbdLogLikelihoodGradient(fit.params, SMALL);
    for (const name of NAMES) expect(Math.abs(g[name])).toBeLessThan(1e-6);
  });
});

describe('MBG/NBD P(alive)', () => {
  it('is below 1 for a one-time buyer: 1 / (1 + a/b · ((α+T)/α)^r)', () => {
    const { r, alpha, a, b } = PUBLISHED;
    const p = conditionalProbabilityAlive(PUBLISHED, 0, 0, 38);
    expect(p).toBeCloseTo(1 / (1 + (a / b) * ((alpha + 38) / alpha) ** r), 14);
    expect(p).toBeLessThan(0.5);
    // Even the day of their first purchase: they may drop out right away.
    expect(conditionalProbabilityAlive(PUBLISHED, 0, 0, 0)).toBeCloseTo(b / (a + b), 14);
  });

  it('is near 1 for a recent frequent buyer and falls with time since the last purchase', () => {
    expect(conditionalProbabilityAlive(PUBLISHED, 20, 38, 38)).toBeGreaterThan(0.95);
    const recent = conditionalProbabilityAlive(PUBLISHED, 5, 35, 38);
    const lapsed = conditionalProbabilityAlive(PUBLISHED, 5, 10, 38);
    expect(recent).toBeGreaterThan(lapsed);
    const { r, alpha, a, b } = PUBLISHED;
    expect(lapsed).toBeCloseTo(1 / (1 + (a / (b + 5)) * ((alpha + 38) / (alpha + 10)) ** (r + 5)), 14);
  });

  it('gives the same values element by element over arrays', () => {
    const x = Float64Array.of(0, 1, 4);
    const tx = Float64Array.of(0, 3, 20);
    const T = Float64Array.of(10, 30, 25);
    const all = conditionalProbabilityAlive(PUBLISHED, x, tx, T);
    for (let i = 0; i < 3; i++) expect(all[i]).toBe(conditionalProbabilityAlive(PUBLISHED, x[i], tx[i], T[i]));
  });
});

describe('MBG/NBD expected purchases', () => {
  it.each([
    [0, 0, 38.86, 10],
    [0, 0, 5, 39],
    [2, 30.43, 38.86, 39],
    [7, 35, 36, 52],
  ])('conditional: x=%d, t_x=%d, T=%d over t=%d as lifetimes writes it', (x, tx, T, t) => {
    const expected = lifetimesConditional(PUBLISHED, t, x, tx, T);
    expect(relativeError(conditionalExpectedPurchases(PUBLISHED, t, x, tx, T), expected)).toBeLessThan(1e-10);
  });

  it('of a new customer: b/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b+1; a+b; t/(α+t))]', () => {
    const { r, alpha, a, b } = PUBLISHED;
    for (const t of [1, 10, 39]) {
      const expected = (b / (a - 1)) * (1 - (alpha / (alpha + t)) ** r * naiveHyp2f1(r, b + 1, a + b, t / (alpha + t)));
      expect(relativeError(expectedPurchases(PUBLISHED, t), expected)).toBeLessThan(1e-10);
    }
    expect(expectedPurchases(PUBLISHED, 0)).toBe(0);
  });

  it('is no purchase over no time and grows with the horizon', () => {
    expect(conditionalExpectedPurchases(PUBLISHED, 0, 3, 20, 30)).toBe(0);
    const short = conditionalExpectedPurchases(PUBLISHED, 10, 3, 20, 30);
    expect(conditionalExpectedPurchases(PUBLISHED, 20, 3, 20, 30)).toBeGreaterThan(short);
  });
});
