/**
 * clvIntervals takes the draws of a few thousand patterns at a time (so that
 * they stay in the CPU's cache): on a base with more patterns than one such
 * block, every pattern's ratios and the totals over all blocks must be what
 * the draws give, recomputed here per pattern with the models' own functions.
 */
import { describe, expect, it } from 'vitest';
import * as bgNbd from '../../src/models/bgNbd.js';
import { clvFactors, frequencyTGroups } from '../../src/models/clv.js';
import { clvIntervals, purchaseLikelihood, SPEND_GRID, type ClvIntervals, type IntervalInput } from '../../src/models/clvIntervals.js';
import * as gammaGamma from '../../src/models/gammaGamma.js';
import { drawParameters, logSpaceCovariance, quantileOfSorted, seededNormal } from '../../src/models/parameterDraws.js';
import { simulateCustomerBase } from './cdnowPatterns.js';

const HORIZON = { horizonMonths: 12, monthlyDiscountRate: 0.01, timeUnit: 'week' as const };
const DRAWS = 24;
const SEED = 3;
// 40,000 customers over two years: more distinct (x, t_x, T) patterns than one block of 8,192.
const base = simulateCustomerBase(40_000, 5);
// In the order the customers first made them, reversed: the one-time buyers' patterns, made first, come last.
const reversed = (values: Float64Array) => Float64Array.from(values).reverse();
const patterns = { frequency: reversed(base.patterns.frequency), recency: reversed(base.patterns.recency), T: reversed(base.patterns.T), weight: reversed(base.patterns.weight) };
const n = patterns.frequency.length;
const BG = bgNbd.fitBgNbd(patterns).params;
const GG = gammaGamma.fitGammaGamma(base.spend).params;
const groups = frequencyTGroups(patterns.frequency, patterns.T);
const input: IntervalInput = {
  purchase: { model: 'bgnbd', params: BG, penalty: 0 },
  patterns,
  groupIndex: groups.index,
  groups: { frequency: groups.frequency, T: groups.T },
  horizon: HORIZON,
  spend: { params: GG, data: base.spend, penalty: 0 },
  spendCustomers: new Float64Array(n),
  spendTotal: new Float64Array(n),
  margin: 1,
  draws: DRAWS,
  seed: SEED,
  level: 0.9,
};
/**
 * clvIntervals on the base, run by each test that checks it (half a second),
 * neither at import nor once for all: Stryker runs a mutant against the tests
 * that ran its code, so a result made at import or kept from another test
 * leaves the test that would catch it out.
 */
function result(): ClvIntervals {
  const intervals = clvIntervals(input);
  if ('unavailable' in intervals) throw new Error(intervals.unavailable);
  return intervals;
}

// The same draws, as clvIntervals takes them: purchase parameters, then Gamma-Gamma's, from one seeded stream.
const normal = seededNormal(SEED);
const likelihood = purchaseLikelihood(input.purchase, patterns);
const purchaseDraws = drawParameters(likelihood.theta, logSpaceCovariance(likelihood.logLikelihood, likelihood.theta, likelihood.totalWeight)!, DRAWS, normal)!;
const gg = gammaGamma.gammaGammaLogSpace(base.spend);
const ggTheta = [GG.p, GG.q, GG.gamma].map(Math.log);
const spendDraws = drawParameters(ggTheta, logSpaceCovariance(gg.logLikelihood, ggTheta, gg.totalWeight)!, DRAWS, normal, (v) => v[1] > 1)!;
const quantile = (values: number[], p: number) => quantileOfSorted([...values].sort((a, b) => a - b), p);

describe('CLV intervals over more patterns than one block', () => {
  const pointFactors = clvFactors('bgnbd', BG, patterns, HORIZON);
  const point = pointFactors.discountFactor;
  const drawnFactors = purchaseDraws.map(([r, alpha, a, b]) => clvFactors('bgnbd', { r, alpha, a, b }, patterns, HORIZON));
  const drawn = drawnFactors.map((f) => f.discountFactor);
  /** Pattern i's clv in each draw over its estimate, for a customer with x repeat purchases of mean value m. */
  const customerRatios = (i: number, x: number, m: number) =>
    drawn.map((values, d) => {
      const [p, q, gamma] = spendDraws[d];
      return (values[i] / point[i]) * (gammaGamma.conditionalExpectedAverageValue({ p, q, gamma }, x, m) / gammaGamma.conditionalExpectedAverageValue(GG, x, m));
    });

  it('the base has more than two blocks of patterns', () => {
    expect(n).toBeGreaterThan(2 * 8192);
  });

  it('gives every block\'s patterns the quantiles of their own draws', () => {
    // Repeat buyers and one-time buyers at the start, the block edges and the end.
    const picks = new Set<number>();
    for (const at of [0, 8191, 8192, 8193, 16383, 16384, n - 1]) {
      const repeat = patterns.frequency.findIndex((x, i) => i >= at && x > 0);
      const oneTime = patterns.frequency.findIndex((x, i) => i >= at && x === 0);
      for (const i of [at, repeat, oneTime]) if (i >= 0 && point[i] > 0) picks.add(i);
    }
    const ratios = result().ratios!;
    const picked = [...picks];
    expect(picked.some((i) => i >= 16384 && patterns.frequency[i] > 0)).toBe(true);
    expect(picked.some((i) => i >= 16384 && patterns.frequency[i] === 0)).toBe(true);
    for (const i of picks) {
      const x = patterns.frequency[i];
      const mean = customerRatios(i, x, 0);
      expect(ratios.lowMean[i], `pattern ${i}`).toBeCloseTo(Math.min(1, quantile(mean, 0.05)), 10);
      expect(ratios.highMean[i], `pattern ${i}`).toBeCloseTo(Math.max(1, quantile(mean, 0.95)), 10);
      if (x === 0) continue;
      // u = ½ on the grid: m = γ/x.
      const half = customerRatios(i, x, GG.gamma / x);
      expect(ratios.low[2][i], `pattern ${i}`).toBeCloseTo(Math.min(1, quantile(half, 0.05)), 8);
      expect(ratios.high[2][i], `pattern ${i}`).toBeCloseTo(Math.max(1, quantile(half, 0.95)), 8);
    }
    expect(SPEND_GRID[2]).toBe(0.5);
  });

  it('adds every block into the draws\' totals', () => {
    const { totals } = result();
    const weightedSum = (values: Float64Array) => values.reduce((s, v, i) => s + v * patterns.weight[i], 0);
    const alive = purchaseDraws.map(([r, alpha, a, b]) => weightedSum(bgNbd.conditionalProbabilityAlive({ r, alpha, a, b }, patterns.frequency, patterns.recency, patterns.T)));
    const estimate = weightedSum(bgNbd.conditionalProbabilityAlive(BG, patterns.frequency, patterns.recency, patterns.T));
    expect(totals.aliveCustomers.estimate / estimate).toBeCloseTo(1, 12);
    expect(totals.aliveCustomers.low / Math.min(estimate, quantile(alive, 0.05))).toBeCloseTo(1, 12);
    expect(totals.aliveCustomers.high / Math.max(estimate, quantile(alive, 0.95))).toBeCloseTo(1, 12);
    // E[X(12 months)]: Σ weight · P(alive) · E[X | alive] per draw.
    const purchases = drawnFactors.map((f) => weightedSum(f.expectedPurchases));
    const purchasesEstimate = weightedSum(pointFactors.expectedPurchases);
    expect(totals.expectedPurchases.estimate / purchasesEstimate).toBeCloseTo(1, 12);
    expect(totals.expectedPurchases.low / Math.min(purchasesEstimate, quantile(purchases, 0.05))).toBeCloseTo(1, 12);
    expect(totals.expectedPurchases.high / Math.max(purchasesEstimate, quantile(purchases, 0.95))).toBeCloseTo(1, 12);
    // No customer here has a spend of their own (spendCustomers are 0): each gets the population mean p·γ/(q − 1), margin 1.
    const mean = (v: ArrayLike<number>) => (v[0] * v[2]) / (v[1] - 1);
    const clv = drawn.map((values, d) => mean(spendDraws[d]) * weightedSum(values));
    const clvEstimate = mean([GG.p, GG.q, GG.gamma]) * weightedSum(point);
    expect(totals.clv!.estimate / clvEstimate).toBeCloseTo(1, 12);
    expect(totals.clv!.low / Math.min(clvEstimate, quantile(clv, 0.05))).toBeCloseTo(1, 12);
    expect(totals.clv!.high / Math.max(clvEstimate, quantile(clv, 0.95))).toBeCloseTo(1, 12);
  });
});
