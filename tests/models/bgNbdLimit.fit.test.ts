/**
 * fitBgNbd on a 20,000-customer base simulated with one dropout probability
 * for everyone: apart from bgNbdLimit.test.ts, as the fit takes seconds (and
 * minutes under Stryker's instrumentation, scripts/mutate.mjs).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bgNbdLogLikelihood, conditionalExpectedPurchases, fitBgNbd } from '../../src/models/bgNbd.js';
import type { PurchasePatterns } from '../../src/models/types.js';
import { loadCdnowCalibration, relativeError, simulateCustomerBase } from './cdnowPatterns.js';
import { fixedDropout } from './dropoutReference.js';

describe('fitBgNbd when everyone has the same dropout probability', () => {
  // Purchases rare enough that few fall on the same day (the simulation counts days, as crm does).
  const truth = { r: 0.8, alpha: 10, p: 0.12 };
  let data: PurchasePatterns;
  let fit: ReturnType<typeof fitBgNbd>;
  beforeAll(() => {
    data = simulateCustomerBase(20_000, 13, truth).patterns;
    fit = fitBgNbd(data);
  });

  it('reports the a, b → ∞ boundary, not convergence, and fits the fixed-dropout limit', () => {
    expect(fit.converged).toBe(false);
    expect(fit.boundary).not.toBeNull();
    const boundary = fit.boundary!;
    expect(boundary.message).toMatch(/^BG\/NBD: a and b ran to infinity with a\/\(a\+b\) = 0\.1\d\d: no dropout heterogeneity; predictions use the fixed-dropout limit$/);
    expect(fit.message).toContain(boundary.message);
    // The simulated p, r, α, within 4 standard errors.
    const se = boundary.standardErrors!;
    expect(Math.abs(boundary.dropoutProbability - truth.p)).toBeLessThan(4 * se.dropoutProbability);
    expect(Math.abs(fit.params.r - truth.r)).toBeLessThan(4 * se.r);
    expect(Math.abs(fit.params.alpha - truth.alpha)).toBeLessThan(4 * se.alpha);
    expect(fit.params.a / (fit.params.a + fit.params.b)).toBeCloseTo(boundary.dropoutProbability, 12);
    expect(fit.standardErrors).toBeNull();
  });

  it('the likelihood rises along a/(a+b) = p towards the limit, which is the reported one', () => {
    const { r, alpha } = fit.params;
    const p = fit.boundary!.dropoutProbability;
    const along = [1e2, 1e4, 1e6, 1e9].map((n) => bgNbdLogLikelihood({ r, alpha, a: n * p, b: n * (1 - p) }, data));
    for (let i = 1; i < along.length; i++) expect(along[i]).toBeGreaterThan(along[i - 1]);
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(along[along.length - 1]);
    expect(fit.logLikelihood - along[along.length - 1]).toBeLessThan(1e-3);
  });

  it('the limit it reports is a maximum: nudging r, α or p lowers the likelihood', () => {
    const { r, alpha } = fit.params;
    const p = fit.boundary!.dropoutProbability;
    // a + b = 1e12 is the limit to ~1e-12 (see above): the BG/NBD likelihood of (r, α, p).
    const at = (q: { r: number; alpha: number; p: number }) => bgNbdLogLikelihood({ r: q.r, alpha: q.alpha, a: 1e12 * q.p, b: 1e12 * (1 - q.p) }, data);
    const best = at({ r, alpha, p });
    expect(Math.abs(best - fit.logLikelihood)).toBeLessThan(1e-6);
    for (const step of [1 + 1e-3, 1 - 1e-3]) {
      expect(at({ r: r * step, alpha, p })).toBeLessThan(best);
      expect(at({ r, alpha: alpha * step, p })).toBeLessThan(best);
      expect(at({ r, alpha, p: p * step })).toBeLessThan(best);
    }
  });

  it('predicts with the fixed-dropout limit for every pattern', () => {
    const { r, alpha } = fit.params;
    const p = fit.boundary!.dropoutProbability;
    const predicted = conditionalExpectedPurchases(fit.params, 52, data.frequency, data.recency, data.T);
    for (let i = 0; i < predicted.length; i++) {
      expect(relativeError(predicted[i], fixedDropout(r, alpha, p, 52, data.frequency[i], data.recency[i], data.T[i]))).toBeLessThan(1e-9);
    }
  });

  it('an interior optimum (CDNOW) has no boundary', () => {
    const cdnow = fitBgNbd(loadCdnowCalibration().patterns);
    expect(cdnow.converged).toBe(true);
    expect(cdnow.boundary).toBeNull();
  });
});
