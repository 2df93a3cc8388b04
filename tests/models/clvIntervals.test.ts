/**
 * CLV intervals on the CDNOW calibration data (built from the raw sample, not
 * by crm's pipeline), at the published maximum-likelihood estimates: the
 * totals' estimates against the models' own prediction functions, the
 * per-pattern ratio bounds against draws recomputed here with other functions
 * (clvFactors per pattern, Gamma-Gamma's conditional mean per customer).
 */
import { describe, expect, it } from 'vitest';
import * as bgNbd from '../../src/models/bgNbd.js';
import { clvFactors, frequencyTGroups } from '../../src/models/clv.js';
import { clvIntervals, purchaseLikelihood, SPEND_GRID, type ClvIntervals, type IntervalInput, type PurchaseEstimate, defaultDrawCount } from '../../src/models/clvIntervals.js';
import { compilePurchasePatterns } from '../../src/models/fitting.js';
import * as gammaGamma from '../../src/models/gammaGamma.js';
import * as mbgNbd from '../../src/models/mbgNbd.js';
import { drawParameters, logSpaceCovariance, seededNormal } from '../../src/models/parameterDraws.js';
import * as paretoNbd from '../../src/models/paretoNbd.js';
import type { BgNbdParams, GammaGammaParams, ParetoNbdParams } from '../../src/models/types.js';
import { loadCdnowCalibration, PUBLISHED_CDNOW, withPatterns } from './cdnowPatterns.js';

const cdnow = loadCdnowCalibration();
const { patterns, customers, spend } = cdnow;
const GG: GammaGammaParams = PUBLISHED_CDNOW.gammagamma.params;
const BG: BgNbdParams = PUBLISHED_CDNOW.bgnbd.params;
const MBG: BgNbdParams = { r: 0.52484, alpha: 6.18309, a: 0.89136, b: 1.614 };
const PARETO: ParetoNbdParams = PUBLISHED_CDNOW.paretonbd.params;
const HORIZON = { horizonMonths: 12, monthlyDiscountRate: 0.01, timeUnit: 'week' as const };
const MONTHS_12 = (12 * 30) / 7;

const key = (x: number, tx: number, T: number) => `${x}|${tx}|${T}`;
const patternIndex = new Map<string, number>();
for (let i = 0; i < patterns.frequency.length; i++) patternIndex.set(key(patterns.frequency[i], patterns.recency[i], patterns.T[i]), i);
const patternOf = (c: (typeof customers)[number]) => patternIndex.get(key(c.frequency, c.recency, c.T))!;
const spendCustomers = new Float64Array(patterns.frequency.length);
const spendTotal = new Float64Array(patterns.frequency.length);
for (const c of customers) {
  if (c.frequency > 0 && c.monetaryValue > 0) {
    spendCustomers[patternOf(c)]++;
    spendTotal[patternOf(c)] += c.monetaryValue;
  }
}
const groups = frequencyTGroups(patterns.frequency, patterns.T);

function input(purchase: PurchaseEstimate, changes: Partial<IntervalInput> = {}): IntervalInput {
  return {
    purchase,
    patterns,
    groupIndex: groups.index,
    groups: { frequency: groups.frequency, T: groups.T },
    horizon: HORIZON,
    spend: { params: GG, data: spend, penalty: 0 },
    spendCustomers,
    spendTotal,
    margin: 0.3,
    draws: 60,
    seed: 7,
    level: 0.9,
    ...changes,
  };
}
const intervalsOf = (i: IntervalInput) => {
  const result = clvIntervals(i);
  if ('unavailable' in result) throw new Error(result.unavailable);
  return result;
};
const BG_INPUT = input({ model: 'bgnbd', params: BG, penalty: 0 });
const bg = intervalsOf(BG_INPUT);
const weightedSum = (values: Float64Array) => values.reduce((s, v, i) => s + v * patterns.weight[i], 0);
const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
/** R's quantile type 7, written out again. */
function quantile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  const h = (s.length - 1) * p;
  const lo = Math.floor(h);
  return s[lo] + (h - lo) * ((s[Math.min(lo + 1, s.length - 1)] ?? s[lo]) - s[lo]);
}

describe('CLV intervals: population totals', () => {
  it('estimate Σ E[X(12 months)], Σ P(alive) and Σ clv of the fitted model, and say how they were drawn', () => {
    expect(bg.level).toBe(0.9);
    expect(bg.draws).toBe(60);
    expect(bg.seed).toBe(7);
    const expected = bgNbd.conditionalExpectedPurchases(BG, MONTHS_12, patterns.frequency, patterns.recency, patterns.T);
    expect(relative(bg.totals.expectedPurchases.estimate, weightedSum(expected))).toBeLessThan(1e-9);
    const alive = bgNbd.conditionalProbabilityAlive(BG, patterns.frequency, patterns.recency, patterns.T);
    expect(relative(bg.totals.aliveCustomers.estimate, weightedSum(alive))).toBeLessThan(1e-12);
    // Per customer: margin × E[spend | x, m] × the pattern's discounted expected purchases.
    const factors = clvFactors('bgnbd', BG, patterns, HORIZON);
    const clv = customers.reduce((s, c) => s + 0.3 * gammaGamma.conditionalExpectedAverageValue(GG, c.frequency, c.monetaryValue) * factors.discountFactor[patternOf(c)], 0);
    expect(relative(bg.totals.clv!.estimate, clv)).toBeLessThan(1e-9);
  });

  it('give each total an interval of some width around its estimate', () => {
    for (const t of [bg.totals.expectedPurchases, bg.totals.aliveCustomers, bg.totals.clv!]) {
      expect(t.low).toBeLessThanOrEqual(t.estimate);
      expect(t.high).toBeGreaterThanOrEqual(t.estimate);
      expect(t.high / t.low).toBeGreaterThan(1.02);
      expect(t.high / t.low).toBeLessThan(1.6);
    }
  });

  it('are the 5% and 95% quantiles of the totals of each drawn parameter set', () => {
    const normal = seededNormal(7);
    const likelihood = purchaseLikelihood(BG_INPUT.purchase, patterns);
    const cov = logSpaceCovariance(likelihood.logLikelihood, likelihood.theta, likelihood.totalWeight)!;
    const draws = drawParameters(likelihood.theta, cov, 60, normal)!;
    const totals = draws.map(([r, alpha, a, b]) => weightedSum(bgNbd.conditionalProbabilityAlive({ r, alpha, a, b }, patterns.frequency, patterns.recency, patterns.T)));
    const low = quantile(totals, 0.05);
    const high = quantile(totals, 0.95);
    expect(relative(bg.totals.aliveCustomers.low, Math.min(low, bg.totals.aliveCustomers.estimate))).toBeLessThan(1e-12);
    expect(relative(bg.totals.aliveCustomers.high, Math.max(high, bg.totals.aliveCustomers.estimate))).toBeLessThan(1e-12);
  });

  it('are the same for the same seed and others for another', () => {
    expect(intervalsOf(BG_INPUT)).toEqual(bg);
    const other = intervalsOf({ ...BG_INPUT, seed: 8 });
    expect(other.totals.clv!.low).not.toBe(bg.totals.clv!.low);
    expect(other.totals.expectedPurchases.estimate).toBe(bg.totals.expectedPurchases.estimate);
  });

  it('without a spend model: the purchase totals only, no CLV ratios', () => {
    const r = intervalsOf({ ...BG_INPUT, spend: null });
    expect(r.ratios).toBeNull();
    expect(r.totals.clv).toBeNull();
    expect(r.totals.aliveCustomers).toEqual(bg.totals.aliveCustomers);
  });

  it.each([
    ['mbgnbd', MBG, mbgNbd.conditionalExpectedPurchases],
    ['paretonbd', PARETO, paretoNbd.conditionalExpectedPurchases],
  ] as const)('%s: the totals are that model\'s', (model, params, expectedPurchases) => {
    const r = intervalsOf(input({ model, params, penalty: 0 }, { draws: 20 }));
    const expected = (expectedPurchases as (p: never, t: number, x: Float64Array, tx: Float64Array, T: Float64Array) => Float64Array)(params as never, MONTHS_12, patterns.frequency, patterns.recency, patterns.T);
    expect(relative(r.totals.expectedPurchases.estimate, weightedSum(expected))).toBeLessThan(1e-8);
    expect(r.totals.expectedPurchases.high).toBeGreaterThan(r.totals.expectedPurchases.low);
  });
});

describe('CLV intervals: per-pattern ratios', () => {
  const ratios = bg.ratios!;
  const normal = seededNormal(7);
  const likelihood = purchaseLikelihood(BG_INPUT.purchase, patterns);
  const purchaseDraws = drawParameters(likelihood.theta, logSpaceCovariance(likelihood.logLikelihood, likelihood.theta, likelihood.totalWeight)!, 60, normal)!;
  const gg = gammaGamma.gammaGammaLogSpace(spend);
  const ggTheta = [GG.p, GG.q, GG.gamma].map(Math.log);
  const spendDraws = drawParameters(ggTheta, logSpaceCovariance(gg.logLikelihood, ggTheta, gg.totalWeight)!, 60, normal, (v) => v[1] > 1)!;
  const point = clvFactors('bgnbd', BG, patterns, HORIZON).discountFactor;
  const drawn = purchaseDraws.map(([r, alpha, a, b]) => clvFactors('bgnbd', { r, alpha, a, b }, patterns, HORIZON).discountFactor);
  /** A customer's clv in each draw over its estimate, from the models' own functions. */
  const customerRatios = (i: number, x: number, m: number) =>
    drawn.map((values, d) => {
      const [p, q, gamma] = spendDraws[d];
      const s = gammaGamma.conditionalExpectedAverageValue({ p, q, gamma }, x, m) / gammaGamma.conditionalExpectedAverageValue(GG, x, m);
      return (values[i] / point[i]) * s;
    });

  it('hold 1: low ≤ 1 ≤ high at every grid point of every pattern', () => {
    expect(ratios.low).toHaveLength(SPEND_GRID.length);
    for (const side of [...ratios.low, ratios.lowMean]) expect(side.every((v) => v <= 1 && v > 0)).toBe(true);
    for (const side of [...ratios.high, ratios.highMean]) expect(side.every((v) => v >= 1 && Number.isFinite(v))).toBe(true);
    // Not all 1: the intervals have width.
    expect(ratios.highMean.some((v) => v > 1.05)).toBe(true);
    expect(ratios.lowMean.some((v) => v < 0.95)).toBe(true);
  });

  it('for a one-time buyer\'s pattern: the quantiles of the clv ratio with the population mean spend', () => {
    const i = patterns.frequency.findIndex((x) => x === 0);
    const values = customerRatios(i, 0, 0);
    expect(ratios.lowMean[i]).toBeCloseTo(Math.min(1, quantile(values, 0.05)), 10);
    expect(ratios.highMean[i]).toBeCloseTo(Math.max(1, quantile(values, 0.95)), 10);
    // No Gamma-Gamma spend in the pattern: every grid point is the population-mean one.
    for (let k = 0; k < SPEND_GRID.length; k++) {
      expect(ratios.low[k][i]).toBe(ratios.lowMean[i]);
      expect(ratios.high[k][i]).toBe(ratios.highMean[i]);
    }
  });

  it('for a repeat buyer: the quantiles at u = x·m/(γ + x·m) on the grid, for the m that gives that u', () => {
    const i = patterns.frequency.findIndex((x) => x === 3);
    const x = 3;
    SPEND_GRID.slice(0, -1).forEach((u, k) => {
      const m = (u * GG.gamma) / (x * (1 - u));
      const values = customerRatios(i, x, m > 0 ? m : 1e-300);
      expect(ratios.low[k][i]).toBeCloseTo(Math.min(1, quantile(values, 0.05)), 8);
      expect(ratios.high[k][i]).toBeCloseTo(Math.max(1, quantile(values, 0.95)), 8);
    });
    // u → 1 (a spend far above γ): the ratio of the purchase part times g_d(x)/ĝ(x).
    const values = customerRatios(i, x, 1e12);
    expect(ratios.low[4][i]).toBeCloseTo(Math.min(1, quantile(values, 0.05)), 6);
    expect(ratios.high[4][i]).toBeCloseTo(Math.max(1, quantile(values, 0.95)), 6);
    // The population-mean ratio for a repeat buyer without a positive spend.
    const mean = customerRatios(i, x, 0);
    expect(ratios.lowMean[i]).toBeCloseTo(Math.min(1, quantile(mean, 0.05)), 10);
  });

  it('a pattern whose P(alive) underflows to 0 keeps clv 0 in every draw: ratio 1', () => {
    // CDNOW with one more customer: 400 repeat purchases in the first week, none in the 38 since.
    const lost = withPatterns(patterns, [[400, 1, 39, 1]]);
    const n = lost.frequency.length;
    const g = frequencyTGroups(lost.frequency, lost.T);
    const extend = (a: Float64Array, v: number) => Float64Array.from([...a, v]);
    const r = intervalsOf({
      ...BG_INPUT,
      patterns: lost,
      groupIndex: g.index,
      groups: { frequency: g.frequency, T: g.T },
      spendCustomers: extend(spendCustomers, 1),
      spendTotal: extend(spendTotal, 20),
      draws: 20,
    });
    expect(bgNbd.conditionalProbabilityAlive(BG, 400, 1, 39)).toBe(0);
    expect(r.ratios!.lowMean[n - 1]).toBe(1);
    expect(r.ratios!.highMean[n - 1]).toBe(1);
    expect(r.ratios!.high[2][n - 1]).toBe(1);
  });
});

describe('CLV intervals: the estimate\'s log-likelihood', () => {
  it('BG/NBD at its boundary draws the fixed-dropout limit: (r, α, p/(1−p)), each draw a limit with a/b the drawn odds', () => {
    const estimate: PurchaseEstimate = { model: 'bgnbd', params: { r: 0.3, alpha: 5, a: 0.25e15, b: 0.75e15 }, boundaryOdds: 1 / 3, penalty: 0.5 };
    const l = purchaseLikelihood(estimate, patterns);
    expect(Array.from(l.theta)).toEqual([Math.log(0.3), Math.log(5), Math.log(1 / 3)]);
    expect(l.penalty).toBe(0);
    const p = l.toParams([0.3, 5, 0.5]) as BgNbdParams;
    expect(p.r).toBe(0.3);
    expect(p.a / p.b).toBeCloseTo(0.5, 12);
    expect(p.a + p.b).toBeCloseTo(1e15, -3);
  });

  it('an interior fit draws its own parameters, with the fit\'s penalty', () => {
    const l = purchaseLikelihood({ model: 'paretonbd', params: PARETO, penalty: 0.1 }, patterns);
    expect(Array.from(l.theta)).toEqual([PARETO.r, PARETO.alpha, PARETO.s, PARETO.beta].map(Math.log));
    expect(l.penalty).toBe(0.1);
    expect(l.totalWeight).toBe(2357);
    expect(l.toParams([1, 2, 3, 4])).toEqual({ r: 1, alpha: 2, s: 3, beta: 4 });
    const compiled = compilePurchasePatterns(patterns);
    const g = new Float64Array(4);
    expect(l.logLikelihood(l.theta, g)).toBeCloseTo(paretoNbd.paretoNbdLogLikelihood(PARETO, patterns), 6);
    expect(compiled.totalWeight).toBe(2357);
  });

  it('with the penalty the intervals change (the curvature is the penalised one)', () => {
    const penalised = intervalsOf(input({ model: 'bgnbd', params: BG, penalty: 5 }, { draws: 60 }));
    expect(penalised.totals.aliveCustomers.low).not.toBe(bg.totals.aliveCustomers.low);
  });

  it('no intervals, with the reason, where a Hessian is not positive definite', () => {
    const oneSpend = { frequency: Float64Array.from([2]), monetaryValue: Float64Array.from([20]), weight: Float64Array.from([1]) };
    const r = clvIntervals({ ...BG_INPUT, spend: { params: GG, data: oneSpend, penalty: 0 } });
    expect(r).toEqual({ unavailable: "the Gamma-Gamma log-likelihood's Hessian is not positive definite at the estimate" });
    // BG/NBD far from its optimum, where the log-likelihood curves the wrong way.
    const saddle = clvIntervals(input({ model: 'bgnbd', params: { r: 50, alpha: 0.01, a: 1e-4, b: 1e5 }, penalty: 0 }, { draws: 5 }));
    expect(saddle).not.toHaveProperty('totals');
    expect(saddle).toEqual({ unavailable: 'the bgnbd log-likelihood\'s Hessian is not positive definite at the estimate' });
  });
});

describe('defaultDrawCount (draws when --clv-draws is not given)', () => {
  it('is 200 while groups × 200 stays within 2,000,000, then 2,000,000 / groups, never under 40', () => {
    expect(defaultDrawCount(0)).toBe(200);
    expect(defaultDrawCount(1)).toBe(200);
    // 10,000 groups × 200 = 2,000,000: the last base with every default draw.
    expect(defaultDrawCount(10_000)).toBe(200);
    expect(defaultDrawCount(10_001)).toBe(199);
    // The 10M-row benchmark base (1M customers): 42,736 groups → ⌊2,000,000 / 42,736⌋ = 46.
    expect(defaultDrawCount(42_736)).toBe(46);
    expect(defaultDrawCount(50_000)).toBe(40);
    expect(defaultDrawCount(1_000_000)).toBe(40);
  });
});
