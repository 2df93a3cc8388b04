import { describe, expect, it } from 'vitest';
import {
  conditionalExpectedPurchases,
  conditionalProbabilityAlive,
  conditionalProbabilityNoPurchase,
  expectedPurchases,
  fitParetoNbd,
  paretoNbdLogLikelihood,
  paretoNbdLogLikelihoodGradient,
  paretoNbdPatternLogLikelihood,
  probabilityNoPurchase,
} from '../../src/models/paretoNbd.js';
import type { ParetoNbdParams } from '../../src/models/types.js';
import { centralDifferenceGradient, everyNth, loadCdnowCalibration, patterns, relativeError, withPatterns } from './cdnowPatterns.js';

const cdnow = loadCdnowCalibration();
// Gradients take 9 evaluations of the likelihood: on every 10th pattern (the published value is checked on all).
const SMALL = everyNth(cdnow.patterns, 10);
// Fader, Hardie & Lee (2005) "RFM and CLV", reproduced by BTYD / CLVTools.
const PUBLISHED: ParetoNbdParams = { r: 0.5533, alpha: 10.5777, s: 0.6062, beta: 11.6685 };
const PUBLISHED_LL = -9594.98;
const NAMES = ['r', 'alpha', 's', 'beta'] as const;

// Log-likelihood and P(alive) by direct quadrature of J = ∫ (α+τ)^−(r+x) (β+τ)^−(s+1) dτ (mpmath, 40 digits).
const QUADRATURE: [ParetoNbdParams, [number, number, number], number, number][] = [
  [PUBLISHED, [0, 0, 30], -0.48568542535630236609, 0.35707358647496725306],
  [PUBLISHED, [26, 30.86, 31], -39.130688847264122695, 0.99791801874372097421],
  [PUBLISHED, [2, 10, 38], -8.3681532776039288153, 0.28050150945252155172],
  [PUBLISHED, [500, 38, 38.5], 659.82578966560704382, 0.83392490301572351665],
  [PUBLISHED, [5, 1e-6, 2e-6], -8.2240987543489830557, 0.99999994804815825056],
  [PUBLISHED, [1, 0.5, 100], -4.3454533097534220664, 0.026785691511871080709],
  [{ r: 0.7, alpha: 30, s: 1.3, beta: 2 }, [0, 0, 30], -0.068392854132514711619, 0.017931873427743558515],
  [{ r: 0.7, alpha: 30, s: 1.3, beta: 2 }, [26, 30.86, 31], -50.998785184287200638, 0.99431654817831952793],
  [{ r: 0.7, alpha: 30, s: 1.3, beta: 2 }, [2, 10, 38], -10.276471120867670388, 0.085789370728900591578],
  [{ r: 0.7, alpha: 30, s: 1.3, beta: 2 }, [500, 38, 38.5], 491.45689590144661314, 0.85443366506934776183],
  [{ r: 0.7, alpha: 30, s: 1.3, beta: 2 }, [5, 1e-6, 2e-6], -12.982887529810627017, 0.99999935000063699935],
  [{ r: 0.7, alpha: 30, s: 1.3, beta: 2 }, [1, 0.5, 100], -4.2564386864801537925, 0.00082051367688321474833],
];

describe('Pareto/NBD log-likelihood', () => {
  it('is −9594.98 at the published parameters', () => {
    expect(Math.abs(paretoNbdLogLikelihood(PUBLISHED, cdnow.patterns) - PUBLISHED_LL)).toBeLessThan(0.01);
  });

  it.each(QUADRATURE)('matches quadrature of the lifetime integral: %o %o', (params, [x, tx, T], ll, alive) => {
    expect(Math.abs(paretoNbdPatternLogLikelihood(params, x, tx, T) - ll)).toBeLessThan(1e-11 * Math.max(1, Math.abs(ll)));
    expect(Math.abs(conditionalProbabilityAlive(params, x, tx, T) - alive)).toBeLessThan(1e-12);
  });

  it('is the weighted sum of the per-pattern values', () => {
    const p = cdnow.patterns;
    let sum = 0;
    for (let i = 0; i < p.frequency.length; i++) sum += p.weight[i] * paretoNbdPatternLogLikelihood(PUBLISHED, p.frequency[i], p.recency[i], p.T[i]);
    expect(relativeError(paretoNbdLogLikelihood(PUBLISHED, p), sum)).toBeLessThan(1e-12);
  });

  it('is smooth through α = β, where the hypergeometric form switches', () => {
    const at = (alpha: number) => paretoNbdLogLikelihood({ r: 0.55, alpha, s: 0.6, beta: 11 }, SMALL);
    const h = 1e-7;
    const left = (at(11) - at(11 - h)) / h;
    const right = (at(11 + h) - at(11)) / h;
    expect(Math.abs(left - right)).toBeLessThan(1e-3 * Math.abs(left));
    const g = paretoNbdLogLikelihoodGradient({ r: 0.55, alpha: 11, s: 0.6, beta: 11 }, SMALL);
    expect(relativeError(g.alpha, 11 * 0.5 * (left + right))).toBeLessThan(1e-5);
  });

  it.each([
    { r: 0.7, alpha: 3, s: 1.3, beta: 20 },
    { r: 0.7, alpha: 30, s: 1.3, beta: 2 },
    { r: 2, alpha: 8, s: 0.2, beta: 9 },
  ])('has an analytic gradient matching central differences at %o', (params) => {
    const data = withPatterns(SMALL, [[500, 38, 38.5, 1]]);
    const gradient = paretoNbdLogLikelihoodGradient(params, data);
    const numeric = centralDifferenceGradient((q) => paretoNbdLogLikelihood(q, data), params, NAMES);
    for (const name of NAMES) expect(relativeError(gradient[name], numeric[name])).toBeLessThan(1e-5);
  });
});

describe('Pareto/NBD predictions (fixtures/cdnow/README.md "Known predictions")', () => {
  it('customer x = 26, t_x = 30.86, T = 31: P(alive) = 0.9979, E[Y(52)] = 25.4564', () => {
    expect(relativeError(conditionalProbabilityAlive(PUBLISHED, 26, 30.86, 31), 0.9979)).toBeLessThan(1e-3);
    expect(relativeError(conditionalExpectedPurchases(PUBLISHED, 52, 26, 30.86, 31), 25.4564)).toBeLessThan(1e-3);
  });

  it('new-customer quantities agree with the conditional ones at x = t_x = T = 0', () => {
    for (const t of [1, 10, 52, 200]) {
      expect(relativeError(expectedPurchases(PUBLISHED, t), conditionalExpectedPurchases(PUBLISHED, t, 0, 0, 0))).toBeLessThan(1e-14);
      expect(relativeError(probabilityNoPurchase(PUBLISHED, t), conditionalProbabilityNoPurchase(PUBLISHED, t, 0, 0, 0))).toBeLessThan(1e-12);
    }
    // E[X(t)] = rβ/(α(s−1)) (1 − (β/(β+t))^(s−1))
    const { r, alpha, s, beta } = PUBLISHED;
    expect(relativeError(expectedPurchases(PUBLISHED, 52), ((r * beta) / (alpha * (s - 1))) * (1 - Math.pow(beta / (beta + 52), s - 1)))).toBeLessThan(1e-14);
  });

  it('P(no purchase in (0, t]) decreases from 1 and its complement matches the purchase rate at t → 0', () => {
    const values = probabilityNoPurchase(PUBLISHED, Float64Array.of(0, 1e-6, 1, 10, 100));
    expect(values[0]).toBe(1);
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeLessThan(values[i - 1]);
    // P(X(t) > 0) ≈ E[λ] t = (r/α) t for small t.
    expect(relativeError((1 - values[1]) / 1e-6, PUBLISHED.r / PUBLISHED.alpha)).toBeLessThan(1e-4);
  });

  it('is continuous through s = 1', () => {
    const at = (s: number) => conditionalExpectedPurchases({ ...PUBLISHED, s }, 52, 3, 20, 30);
    expect(Math.abs(at(1) - at(1 + 1e-9))).toBeLessThan(1e-7);
    expect(Math.abs(at(1) - at(1 - 1e-9))).toBeLessThan(1e-7);
  });

  it('vectorised forms equal the scalar forms', () => {
    const p = cdnow.patterns;
    const expected = conditionalExpectedPurchases(PUBLISHED, 52, p.frequency, p.recency, p.T);
    const alive = conditionalProbabilityAlive(PUBLISHED, p.frequency, p.recency, p.T);
    for (let i = 0; i < p.frequency.length; i += 7) {
      expect(expected[i]).toBe(conditionalExpectedPurchases(PUBLISHED, 52, p.frequency[i], p.recency[i], p.T[i]));
      expect(alive[i]).toBe(conditionalProbabilityAlive(PUBLISHED, p.frequency[i], p.recency[i], p.T[i]));
    }
  });
});

describe('Pareto/NBD edge cases never produce NaN or Infinity', () => {
  it('all one-time buyers: not converged, clear message', () => {
    const result = fitParetoNbd(patterns([
      [0, 0, 10, 5],
      [0, 0, 20, 3],
    ]));
    expect(result.converged).toBe(false);
    expect(result.message).toMatch(/no repeat purchases/);
    for (const name of NAMES) expect(Number.isFinite(result.params[name])).toBe(true);
    expect(Number.isFinite(result.logLikelihood)).toBe(true);
  });

  it('a single customer', () => {
    const result = fitParetoNbd(patterns([[3, 8, 10, 1]]));
    for (const name of NAMES) expect(Number.isFinite(result.params[name])).toBe(true);
    expect(Number.isFinite(result.logLikelihood)).toBe(true);
    expect(result.converged).toBe(false);
  });
});
