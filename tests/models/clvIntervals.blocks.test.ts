/**
 * clvIntervals takes the draws of a few thousand patterns at a time (so that
 * they stay in the CPU's cache): on a base with more patterns than one such
 * block, every pattern's ratios and the totals over all blocks must be what
 * the draws give, recomputed here per pattern with the models' own functions.
 */
import { describe, expect, it } from 'vitest';
import * as bgNbd from '../../src/models/bgNbd.js';
import { clvFactors, frequencyTGroups } from '../../src/models/clv.js';
import { clvIntervals, purchaseLikelihood, SPEND_GRID, type IntervalInput } from '../../src/models/clvIntervals.js';
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
const result = clvIntervals(input);
if ('unavailable' in result) throw new Error(result.unavailable);
const ratios = result.ratios!;

// The same draws, as clvIntervals takes them: purchase parameters, then Gamma-Gamma's, from one seeded stream.
const normal = seededNormal(SEED);
const likelihood = purchaseLikelihood(input.purchase, patterns);
const purchaseDraws = drawParameters(likelihood.theta, logSpaceCovariance(likelihood.logLikelihood, likelihood.theta, likelihood.totalWeight)!, DRAWS, normal)!;
const gg = gammaGamma.gammaGammaLogSpace(base.spend);
const ggTheta = [GG.p, GG.q, GG.gamma].map(Math.log);
const spendDraws = drawParameters(ggTheta, logSpaceCovariance(gg.logLikelihood, ggTheta, gg.totalWeight)!, DRAWS, normal, (v) => v[1] > 1)!;
const quantile = (values: number[], p: number) => quantileOfSorted([...values].sort((a, b) => a - b), p);

describe('CLV intervals over more patterns than one block', () => {
  const point = clvFactors('bgnbd', BG, patterns, HORIZON).discountFactor;
  const drawn = purchaseDraws.map(([r, alpha, a, b]) => clvFactors('bgnbd', { r, alpha, a, b }, patterns, HORIZON).discountFactor);
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
    const weightedSum = (values: Float64Array) => values.reduce((s, v, i) => s + v * patterns.weight[i], 0);
    const alive = purchaseDraws.map(([r, alpha, a, b]) => weightedSum(bgNbd.conditionalProbabilityAlive({ r, alpha, a, b }, patterns.frequency, patterns.recency, patterns.T)));
    const estimate = weightedSum(bgNbd.conditionalProbabilityAlive(BG, patterns.frequency, patterns.recency, patterns.T));
    expect(result.totals.aliveCustomers.estimate / estimate).toBeCloseTo(1, 12);
    expect(result.totals.aliveCustomers.low / Math.min(estimate, quantile(alive, 0.05))).toBeCloseTo(1, 12);
    expect(result.totals.aliveCustomers.high / Math.max(estimate, quantile(alive, 0.95))).toBeCloseTo(1, 12);
  });
});
