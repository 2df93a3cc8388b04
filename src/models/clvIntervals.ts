/**
 * CLV intervals from the parameters' uncertainty (DESIGN §3 clv_low,
 * clv_high): parameter sets drawn around the purchase model's and
 * Gamma-Gamma's estimates (log space, full covariance: parameterDraws.ts),
 * the predictions recomputed per pattern for each draw, and quantiles taken
 * over the draws.
 *
 * Per customer, clv = margin · S(x, m) · V(x, t_x, T) with V = P(alive) ·
 * the discounted expected purchases of the pattern and S Gamma-Gamma's
 * expected spend. For a repeat customer with a positive spend m,
 * S = g(x)·(γ + x·m), g(x) = p/(px + q − 1), so a draw's clv over the
 * estimate's is
 *
 *   ρ_d = [V_d g_d(x) / (V̂ ĝ(x))] · [(γ_d/γ̂)(1 − u) + u],  u = x·m/(γ̂ + x·m) ∈ [0, 1),
 *
 * which depends on m only through u. So the quantiles of ρ over the draws are
 * taken per pattern at u = 0, ¼, ½, ¾, 1 (exact there; the engine
 * interpolates linearly in between), and for the customers who get the
 * population mean spend M = pγ/(q − 1) at ρ_d = V_d M_d / (V̂ M̂): a few
 * numbers per pattern go back to the engine, never per customer. The interval
 * is clv × [low ratio, high ratio] with the ratios widened to hold 1, so that
 * clv_low ≤ clv ≤ clv_high by construction (the estimate, a plug-in, can sit
 * just outside the draws' central 90% where few customers share a pattern's
 * extreme).
 */
import { BG_NBD, conditionalProbabilityAlive as bgNbdPAlive } from './bgNbd.js';
import { boundaryParams, fixedDropoutLogLikelihood } from './bgNbdLimit.js';
import { aliveFactors, type ClvOptions } from './clv.js';
import { compilePurchasePatterns, type LogLikelihoodWithGradient, type PurchaseModel } from './fitting.js';
import { gammaGammaLogSpace } from './gammaGamma.js';
import { MBG_NBD, conditionalProbabilityAlive as mbgNbdPAlive } from './mbgNbd.js';
import { PARETO_NBD, conditionalProbabilityAlive as paretoNbdPAlive } from './paretoNbd.js';
import { centralInterval, centralIntervalOf, drawParameters, logSpaceCovariance, seededNormal } from './parameterDraws.js';
import type { BgNbdParams, GammaGammaParams, ParetoNbdParams, PurchasePatterns, SpendPatterns } from './types.js';

/** Draws when none are asked for, on a base with few (frequency, T) groups. */
export const DEFAULT_DRAWS = 200;
/** Never fewer by default: the 5%/95% quantiles of fewer draws are too coarse. */
export const MIN_DEFAULT_DRAWS = 40;
/**
 * (frequency, T) groups × draws a run spends on the intervals by default:
 * each draw recomputes every group's expected purchases over the horizon.
 */
export const DRAW_BUDGET = 2_000_000;

/**
 * The number of draws when --clv-draws is not given: DEFAULT_DRAWS while
 * groups × draws stays within DRAW_BUDGET, fewer on larger bases (never
 * under MIN_DEFAULT_DRAWS), so that the intervals do not dominate a large
 * nightly run.
 */
export const defaultDrawCount = (groups: number): number =>
  Math.max(MIN_DEFAULT_DRAWS, Math.min(DEFAULT_DRAWS, Math.floor(DRAW_BUDGET / Math.max(groups, 1))));

/** The points u of the spend grid (see above). */
export const SPEND_GRID = [0, 0.25, 0.5, 0.75, 1] as const;

export type PurchaseModelName = 'bgnbd' | 'mbgnbd' | 'paretonbd';

/** A usable purchase fit: its model, parameters, and for BG/NBD at its boundary the fixed-dropout limit's p/(1−p). */
export interface PurchaseEstimate {
  model: PurchaseModelName;
  params: BgNbdParams | ParetoNbdParams;
  /** Set when BG/NBD ran to a, b → ∞: the draws are then of the limit's (r, α, ρ). */
  boundaryOdds?: number;
  penalty: number;
}

export interface IntervalInput {
  purchase: PurchaseEstimate;
  /** The patterns the purchase model was fitted on. */
  patterns: PurchasePatterns;
  /** Each pattern's (frequency, T) group and the groups (models/clv.ts frequencyTGroups). */
  groupIndex: Int32Array;
  groups: { frequency: Float64Array; T: Float64Array };
  horizon: ClvOptions;
  /** The Gamma-Gamma fit and its data, or null when there is no CLV (the totals of purchases and P(alive) still come out). */
  spend: { params: GammaGammaParams; data: SpendPatterns; penalty: number } | null;
  /** Per pattern: its customers with a Gamma-Gamma spend (x > 0, m > 0) and the sum of their m. */
  spendCustomers: Float64Array;
  spendTotal: Float64Array;
  margin: number;
  draws: number;
  seed: number;
  level: number;
}

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

export interface ClvIntervals {
  level: number;
  draws: number;
  seed: number;
  /** Per pattern: the ratio bounds at each point of SPEND_GRID, and for population-mean-spend customers; empty without spend. */
  ratios: { low: Float64Array[]; high: Float64Array[]; lowMean: Float64Array; highMean: Float64Array } | null;
  totals: { expectedPurchases: Interval; aliveCustomers: Interval; clv: Interval | null };
}

/** The per-pattern P(alive) of each model. */
const P_ALIVE: Record<PurchaseModelName, (params: never, x: Float64Array, tx: Float64Array, T: Float64Array) => Float64Array> = {
  bgnbd: bgNbdPAlive,
  mbgnbd: mbgNbdPAlive,
  paretonbd: paretoNbdPAlive,
};
const SPECS: Record<PurchaseModelName, PurchaseModel<never>> = { bgnbd: BG_NBD as never, mbgnbd: MBG_NBD as never, paretonbd: PARETO_NBD as never };

/**
 * The log-likelihood the draws are taken around, the estimate in its
 * log-parameters and the way back to the model's parameters. BG/NBD at its
 * boundary has no interior optimum in (a, b): its fixed-dropout limit (r, α,
 * ρ) is the fitted model, so its covariance is the limit's, and each draw is
 * a limit (a + b = ∞ with a/b = ρ drawn).
 */
export function purchaseLikelihood(
  estimate: PurchaseEstimate,
  patterns: PurchasePatterns,
): { logLikelihood: LogLikelihoodWithGradient; theta: Float64Array; totalWeight: number; penalty: number; toParams: (v: ArrayLike<number>) => BgNbdParams | ParetoNbdParams } {
  const compiled = compilePurchasePatterns(patterns);
  if (estimate.boundaryOdds !== undefined) {
    const { r, alpha } = estimate.params as BgNbdParams;
    return {
      logLikelihood: fixedDropoutLogLikelihood(compiled),
      theta: Float64Array.from([r, alpha, estimate.boundaryOdds], Math.log),
      totalWeight: compiled.totalWeight,
      penalty: 0,
      toParams: (v) => boundaryParams(v[0], v[1], v[2]),
    };
  }
  const spec = SPECS[estimate.model];
  return {
    logLikelihood: spec.logLikelihood(compiled, compiled),
    theta: spec.parameters.toTheta(estimate.params as never),
    totalWeight: compiled.totalWeight,
    penalty: estimate.penalty,
    toParams: (v) => spec.parameters.fromVector(v) as BgNbdParams | ParetoNbdParams,
  };
}

/** The discounted and undiscounted expected purchases of each (frequency, T) group if alive. */
function groupFactors(model: PurchaseModelName, params: BgNbdParams | ParetoNbdParams, input: IntervalInput) {
  // Stryker disable next-line ConditionalExpression,EqualityOperator,StringLiteral: both branches make the same call; the test only picks the overload TypeScript checks
  return model === 'paretonbd' ? aliveFactors(model, params as ParetoNbdParams, input.groups, input.horizon) : aliveFactors(model, params as BgNbdParams, input.groups, input.horizon);
}

/** P(alive) of patterns [start, end). */
const pAliveOf = (model: PurchaseModelName, params: BgNbdParams | ParetoNbdParams, patterns: PurchasePatterns, start: number, end: number) =>
  P_ALIVE[model](params as never, patterns.frequency.subarray(start, end), patterns.recency.subarray(start, end), patterns.T.subarray(start, end));

/** Gamma-Gamma's per-frequency factor g(x) = p/(px + q − 1), its γ and its population mean pγ/(q − 1). */
const spendOf = ({ p, q, gamma }: GammaGammaParams) => ({ g: (x: number) => p / (p * x + q - 1), gamma, mean: (p * gamma) / (q - 1) });

/** The interval with the estimate inside it: the estimate is what the columns show, and an interval beside it should hold it. */
function holding(estimate: number, values: Float64Array, level: number): Interval {
  const { low, high } = centralInterval(values, level);
  return { estimate, low: Math.min(low, estimate), high: Math.max(high, estimate) };
}

/** What a share of the intervals' work is: one draw's (frequency, T) group factors (as models/clv.ts aliveFactors gives them). */
export interface DrawnGroups {
  discountFactor: Float64Array[];
  expectedPurchases: Float64Array[];
}

/**
 * What every part of the intervals' work shares: the parameter draws and the
 * estimate's values. Plain data, so that it crosses to another thread as it is.
 */
export interface IntervalPlan {
  draws: number;
  level: number;
  seed: number;
  /** Each draw's purchase-model parameters, and Gamma-Gamma's (null without spend). */
  drawnParams: (BgNbdParams | ParetoNbdParams)[];
  spendDraws: GammaGammaParams[] | null;
  /** Per pattern, the estimate's P(alive) × discounted expected purchases, V̂. */
  pointValue: Float64Array;
  estimate: { expectedPurchases: number; aliveCustomers: number; clv: number };
}

/**
 * Where the parts of the work put their results: per pattern the ratio bounds
 * (see ClvIntervals; empty without spend), and per block of patterns and draw
 * the block's sums (block-major), which combineIntervals adds in block order.
 * Arrays that the caller makes, so that they can be shared between threads.
 */
export interface IntervalParts {
  low: Float64Array[];
  high: Float64Array[];
  lowMean: Float64Array;
  highMean: Float64Array;
  blockTotals: { expectedPurchases: Float64Array; aliveCustomers: Float64Array; clv: Float64Array };
}

/** Patterns per block: a block's draws (46 to 200 per pattern) stay in the CPU's cache while its quantiles are taken. */
export const PATTERNS_PER_BLOCK = 8192;

/** The blocks the patterns are taken in: the unit of the work's split, whatever the number of threads. */
export const blockCount = (patterns: number): number => Math.ceil(patterns / PATTERNS_PER_BLOCK);

/**
 * The draws and the estimate's values, or a reason why there are no
 * intervals (a Hessian that is not positive definite: the fit's standard
 * errors are missing then too).
 */
export function intervalPlan(input: IntervalInput): IntervalPlan | { unavailable: string } {
  const { purchase, patterns, groupIndex, margin, draws: count, level } = input;
  const normal = seededNormal(input.seed);
  const likelihood = purchaseLikelihood(purchase, patterns);
  const covariance = logSpaceCovariance(likelihood.logLikelihood, likelihood.theta, likelihood.totalWeight, likelihood.penalty);
  if (!covariance) return { unavailable: `the ${purchase.model} log-likelihood's Hessian is not positive definite at the estimate` };
  const purchaseDraws = drawParameters(likelihood.theta, covariance, count, normal);
  if (!purchaseDraws) return { unavailable: `the ${purchase.model} parameters are too uncertain: their draws run off to 0 or ∞` };

  let spendDraws: GammaGammaParams[] | null = null;
  if (input.spend) {
    const gg = gammaGammaLogSpace(input.spend.data);
    const theta = Float64Array.from([input.spend.params.p, input.spend.params.q, input.spend.params.gamma], Math.log);
    const ggCovariance = logSpaceCovariance(gg.logLikelihood, theta, gg.totalWeight, input.spend.penalty);
    // A q ≤ 1 has no mean spend: such draws are drawn again (the fit itself has q > 1).
    if (!ggCovariance) return { unavailable: "the Gamma-Gamma log-likelihood's Hessian is not positive definite at the estimate" };
    const drawn = drawParameters(theta, ggCovariance, count, normal, (v) => v[1] > 1);
    if (!drawn) return { unavailable: 'the Gamma-Gamma parameters are too uncertain: their draws run off to 0 or ∞, or to q ≤ 1' };
    spendDraws = drawn.map(([p, q, gamma]) => ({ p, q, gamma }));
  }

  const n = patterns.frequency.length;
  const { weight } = patterns;
  const pointAlive = P_ALIVE[purchase.model](purchase.params as never, patterns.frequency, patterns.recency, patterns.T);
  const pointGroups = groupFactors(purchase.model, purchase.params, input);
  const pointValue = new Float64Array(n);
  const estimate = { expectedPurchases: 0, aliveCustomers: 0, clv: 0 };
  const pointSpend = input.spend && spendOf(input.spend.params);
  for (let i = 0; i < n; i++) {
    const group = groupIndex[i];
    pointValue[i] = pointAlive[i] * pointGroups.discountFactor[group];
    estimate.expectedPurchases += weight[i] * pointAlive[i] * pointGroups.expectedPurchases[group];
    estimate.aliveCustomers += weight[i] * pointAlive[i];
    if (pointSpend) estimate.clv += margin * pointValue[i] * spendTerm(input, pointSpend, i);
  }
  return { draws: count, level, seed: input.seed, drawnParams: purchaseDraws.map((v) => likelihood.toParams(v)), spendDraws, pointValue, estimate };
}

/** A pattern's Gamma-Gamma spend term of the total CLV: its customers' expected spend, summed. */
function spendTerm(input: IntervalInput, s: ReturnType<typeof spendOf>, i: number): number {
  const { frequency, weight } = input.patterns;
  return frequency[i] > 0
    ? s.g(frequency[i]) * (s.gamma * input.spendCustomers[i] + frequency[i] * input.spendTotal[i]) + (weight[i] - input.spendCustomers[i]) * s.mean
    : weight[i] * s.mean;
}

/** Draws [from, to)'s (frequency, T) group factors, into `out` at each draw's index. */
export function drawGroupFactors(plan: IntervalPlan, input: IntervalInput, from: number, to: number, out: DrawnGroups): void {
  for (let d = from; d < to; d++) {
    const factors = groupFactors(input.purchase.model, plan.drawnParams[d], input);
    out.discountFactor[d].set(factors.discountFactor);
    out.expectedPurchases[d].set(factors.expectedPurchases);
  }
}

/** Empty parts for `patterns` patterns, from `allocate` (a new Float64Array of that length, by default). */
export function intervalParts(plan: IntervalPlan, patterns: number, allocate: (length: number) => Float64Array = (length) => new Float64Array(length)): IntervalParts {
  const ratios = plan.spendDraws !== null ? patterns : 0;
  const totals = blockCount(patterns) * plan.draws;
  return {
    low: SPEND_GRID.map(() => allocate(ratios)),
    high: SPEND_GRID.map(() => allocate(ratios)),
    lowMean: allocate(ratios),
    highMean: allocate(ratios),
    blockTotals: { expectedPurchases: allocate(totals), aliveCustomers: allocate(totals), clv: allocate(totals) },
  };
}

/**
 * Blocks [fromBlock, toBlock) of patterns: per block, each draw's P(alive),
 * V_d / V̂ per pattern and draw (pattern-major) and the block's sums over its
 * patterns (in their order), then each pattern's quantiles; into `parts`.
 * Blocks are independent: any split of them among threads gives the same
 * numbers.
 */
export function intervalBlocks(plan: IntervalPlan, input: IntervalInput, groups: DrawnGroups, parts: IntervalParts, fromBlock: number, toBlock: number): void {
  const { purchase, patterns, groupIndex, margin } = input;
  const { draws: count, drawnParams, spendDraws, pointValue } = plan;
  const n = patterns.frequency.length;
  const { frequency, weight } = patterns;
  const pointSpend = input.spend && spendOf(input.spend.params);
  const withRatios = spendDraws !== null && pointSpend !== null;
  const { low, high, lowMean, highMean, blockTotals } = parts;
  const spends = spendDraws ? spendDraws.map(spendOf) : [];
  // Per draw, the factors of ρ_d that do not depend on the pattern (see the top of this file): M_d/M̂, and per point u of
  // the grid (γ_d/γ̂)(1 − u) + u; and per draw and frequency g_d(x)/ĝ(x), computed when a frequency first comes up.
  const meanRatio = spends.map((s) => s.mean / pointSpend!.mean);
  const gridFactor = SPEND_GRID.map((u) => spends.map((s) => (s.gamma / pointSpend!.gamma) * (1 - u) + u));
  const gRatio = new Map<number, Float64Array>();
  const gRatioOf = (x: number) => {
    let ratios = gRatio.get(x);
    if (!ratios) {
      const pointG = pointSpend!.g(x);
      ratios = Float64Array.from(spends, (s) => s.g(x) / pointG);
      gRatio.set(x, ratios);
    }
    return ratios;
  };
  const interval = centralIntervalOf(count, plan.level);
  const bounds = new Float64Array(2);
  const values = new Float64Array(count);
  const bound = (i: number, lowOut: Float64Array, highOut: Float64Array) => {
    interval(values, bounds);
    lowOut[i] = Math.min(bounds[0], 1);
    highOut[i] = Math.max(bounds[1], 1);
  };

  const valueRatio = new Float64Array(Math.min(PATTERNS_PER_BLOCK, n) * count);
  for (let block = fromBlock; block < toBlock; block++) {
    const start = block * PATTERNS_PER_BLOCK;
    const end = Math.min(start + PATTERNS_PER_BLOCK, n);
    for (let d = 0; d < count; d++) {
      const pAlive = pAliveOf(purchase.model, drawnParams[d], patterns, start, end);
      const spend = spendDraws && spends[d];
      const discountFactor = groups.discountFactor[d];
      const expectedPurchases = groups.expectedPurchases[d];
      let purchases = 0;
      let alive = 0;
      let clv = 0;
      for (let i = start; i < end; i++) {
        const group = groupIndex[i];
        const p = pAlive[i - start];
        const value = p * discountFactor[group];
        valueRatio[(i - start) * count + d] = value / pointValue[i];
        purchases += weight[i] * p * expectedPurchases[group];
        alive += weight[i] * p;
        if (spend) clv += margin * value * spendTerm(input, spend, i);
      }
      blockTotals.expectedPurchases[block * count + d] = purchases;
      blockTotals.aliveCustomers[block * count + d] = alive;
      blockTotals.clv[block * count + d] = clv;
    }
    if (!withRatios) continue;
    for (let i = start; i < end; i++) {
      const x = frequency[i];
      const base = (i - start) * count;
      if (!(pointValue[i] > 0)) {
        // clv is 0 (P(alive) underflowed), and so is its interval.
        for (const side of [...low, ...high, lowMean, highMean]) side[i] = 1;
        continue;
      }
      for (let d = 0; d < count; d++) values[d] = valueRatio[base + d] * meanRatio[d];
      bound(i, lowMean, highMean);
      if (x === 0) {
        // No customer of this pattern has a Gamma-Gamma spend.
        for (let k = 0; k < SPEND_GRID.length; k++) {
          low[k][i] = lowMean[i];
          high[k][i] = highMean[i];
        }
        continue;
      }
      const g = gRatioOf(x);
      for (let k = 0; k < SPEND_GRID.length; k++) {
        const grid = gridFactor[k];
        for (let d = 0; d < count; d++) values[d] = valueRatio[base + d] * g[d] * grid[d];
        bound(i, low[k], high[k]);
      }
    }
  }
}

/** The intervals from the finished parts: each draw's totals, the blocks' sums added in block order, and their quantiles. */
export function combineIntervals(plan: IntervalPlan, parts: IntervalParts, patterns: number): ClvIntervals {
  const count = plan.draws;
  const blocks = blockCount(patterns);
  const total = (sums: Float64Array) => {
    const out = new Float64Array(count);
    for (let block = 0; block < blocks; block++) for (let d = 0; d < count; d++) out[d] += sums[block * count + d];
    return out;
  };
  const { blockTotals, low, high, lowMean, highMean } = parts;
  return {
    level: plan.level,
    draws: count,
    seed: plan.seed,
    ratios: plan.spendDraws !== null ? { low, high, lowMean, highMean } : null,
    totals: {
      expectedPurchases: holding(plan.estimate.expectedPurchases, total(blockTotals.expectedPurchases), plan.level),
      aliveCustomers: holding(plan.estimate.aliveCustomers, total(blockTotals.aliveCustomers), plan.level),
      clv: plan.spendDraws ? holding(plan.estimate.clv, total(blockTotals.clv), plan.level) : null,
    },
  };
}

/** Each draw's group factors as new arrays, one per draw. */
export const drawnGroupsOf = (plan: IntervalPlan, groups: number, allocate: (length: number) => Float64Array = (length) => new Float64Array(length)): DrawnGroups => ({
  discountFactor: plan.drawnParams.map(() => allocate(groups)),
  expectedPurchases: plan.drawnParams.map(() => allocate(groups)),
});

/**
 * The intervals, or a reason why there are none, in this thread: the plan,
 * every draw's group factors, every block, combined. stages/clv splits the
 * same parts between threads, with the same numbers.
 */
export function clvIntervals(input: IntervalInput): ClvIntervals | { unavailable: string } {
  const plan = intervalPlan(input);
  if ('unavailable' in plan) return plan;
  const n = input.patterns.frequency.length;
  const groups = drawnGroupsOf(plan, input.groups.frequency.length);
  drawGroupFactors(plan, input, 0, plan.draws, groups);
  const parts = intervalParts(plan, n);
  intervalBlocks(plan, input, groups, parts, 0, blockCount(n));
  return combineIntervals(plan, parts, n);
}
