/**
 * The CLV stage's model work, from the patterns pulled out of the engine to
 * what goes back into it: the purchase model and Gamma-Gamma fits and the
 * per-(frequency, T) predictions. No engine here, so that it can run in a
 * worker thread (clvWorker.ts) while the engine serves the later stages.
 */
import type { ScoreConfig } from '../../config/schema.js';
import * as bgNbd from '../../models/bgNbd.js';
import { aliveFactors, frequencyTGroups } from '../../models/clv.js';
import * as gammaGamma from '../../models/gammaGamma.js';
import * as mbgNbd from '../../models/mbgNbd.js';
import * as paretoNbd from '../../models/paretoNbd.js';
import { aic, chooseModel, type Candidate, type Selection } from '../../models/modelChoice.js';
import { clvIntervals, defaultDrawCount, type ClvIntervals, type IntervalInput } from '../../models/clvIntervals.js';
import { PURCHASE_MODELS, type PurchaseModelName } from '../../config/lists.js';
import type { BgNbdBoundary, BgNbdFitResult, BgNbdParams, FitResult, GammaGammaParams, ParetoNbdParams, PurchasePatterns, SpendPatterns } from '../../models/types.js';

type ClvOptions = ScoreConfig['clv'];
export type TimeUnit = ClvOptions['timeUnit'];
export const DAYS_PER_UNIT: Record<TimeUnit, number> = { day: 1, week: 7, month: 30 };

export type PurchaseFit =
  | { model: 'bgnbd'; fit: BgNbdFitResult }
  | { model: 'mbgnbd'; fit: FitResult<BgNbdParams> }
  | { model: 'paretonbd'; fit: FitResult<ParetoNbdParams> };

export function fitPurchaseModel(model: PurchaseModelName, patterns: PurchasePatterns, penalty: number): PurchaseFit {
  switch (model) {
    case 'bgnbd':
      return { model, fit: bgNbd.fitBgNbd(patterns, { penalty }) };
    case 'mbgnbd':
      return { model, fit: mbgNbd.fitMbgNbd(patterns, { penalty }) };
    case 'paretonbd':
      return { model, fit: paretoNbd.fitParetoNbd(patterns, { penalty }) };
  }
}

/** How many parameters a usable fit has: BG/NBD's fixed-dropout limit has three (r, α, p). */
const fittedParameters = (fitted: PurchaseFit) => (fitted.model === 'bgnbd' && fitted.fit.boundary ? 3 : 4);

/** A fit as a candidate of --clv-model auto (models/modelChoice.ts). */
export function candidateOf(fitted: PurchaseFit, holdoutError?: number | null): Candidate {
  const k = fittedParameters(fitted);
  const ll = fitted.fit.logLikelihood;
  return { model: fitted.model, logLikelihood: ll, parameters: k, aic: aic(ll, k), converged: usableFit(fitted).available, ...(holdoutError !== undefined ? { holdoutError } : {}) };
}

/** Conditional expected purchases in the next t time units, per pattern. */
export function predictPurchases(fitted: PurchaseFit, t: number, p: PurchasePatterns): Float64Array {
  switch (fitted.model) {
    case 'bgnbd':
      return bgNbd.conditionalExpectedPurchases(fitted.fit.params, t, p.frequency, p.recency, p.T);
    case 'mbgnbd':
      return mbgNbd.conditionalExpectedPurchases(fitted.fit.params, t, p.frequency, p.recency, p.T);
    case 'paretonbd':
      return paretoNbd.conditionalExpectedPurchases(fitted.fit.params, t, p.frequency, p.recency, p.T);
  }
}

/** P(alive) per pattern, for the models whose P(alive) is not computed in SQL (all but BG/NBD). */
function patternProbabilityAlive(fitted: PurchaseFit, p: PurchasePatterns): Float64Array {
  switch (fitted.model) {
    case 'bgnbd':
      return new Float64Array(0);
    case 'mbgnbd':
      return mbgNbd.conditionalProbabilityAlive(fitted.fit.params, p.frequency, p.recency, p.T);
    case 'paretonbd':
      return paretoNbd.conditionalProbabilityAlive(fitted.fit.params, p.frequency, p.recency, p.T);
  }
}

/**
 * Whether a purchase fit's predictions are used. A fit that did not converge
 * is not (its parameters may be anywhere: runaway values give NaN or make the
 * prediction series needlessly slow), except BG/NBD at its a, b → ∞
 * boundary: its limit is a model (one dropout probability for all), fitted
 * and converged, and `boundary` says so.
 */
export function usableFit(fitted: PurchaseFit): { available: boolean; boundary: BgNbdBoundary | null } {
  const boundary = fitted.model === 'bgnbd' ? fitted.fit.boundary : null;
  return { available: fitted.fit.converged || boundary !== null, boundary };
}

export interface ClvFitInput {
  options: Pick<ClvOptions, 'model' | 'penalty' | 'timeUnit' | 'horizonMonths' | 'discountRate' | 'margin' | 'draws' | 'seed'>;
  /** Purchase patterns in the model time unit, and each pattern's T in days (to key the groups). */
  patterns: PurchasePatterns;
  tDays: Float64Array;
  /** Per pattern: customers with a Gamma-Gamma spend and the sum of their mean spends (for the total CLV of a draw). */
  patternSpend: { customers: Float64Array; total: Float64Array };
  spend: SpendPatterns;
  /** With --holdout-days: each candidate's holdout error, by which auto chooses. */
  holdoutErrors?: Partial<Record<PurchaseModelName, number | null>>;
  /** Threads the intervals may use in a worker (crm's --threads); by default the machine's cores (clvWorker.ts). */
  threads?: number;
}

/** What summary.json shows of the intervals (the per-pattern ratios go to the engine). */
export type IntervalSummary = Pick<ClvIntervals, 'level' | 'draws' | 'seed' | 'totals'>;

export interface ClvFits {
  /** The purchase model used: the one named, or auto's choice. */
  purchase: PurchaseFit;
  /** Every purchase model fitted (auto: all three), the one used among them. */
  fitted: PurchaseFit[];
  selection: Selection | null;
  /** False when the purchase model did not converge (short of BG/NBD's boundary limit): its predictions are then left out. */
  available: boolean;
  gammaGamma: FitResult<GammaGammaParams> | null;
  populationMeanSpend: number | null;
  warnings: string[];
  /** Per (frequency, T in days) pair: E[X(H) | alive] and the discounted sum (models/clv.ts aliveFactors); empty when not available. */
  groups: { frequency: Float64Array; tDays: Float64Array; expectedPurchases: Float64Array; discountFactor: Float64Array };
  /** P(alive) per pattern for MBG/NBD and Pareto/NBD (BG/NBD's is closed-form, in SQL); empty otherwise. */
  patternPAlive: Float64Array;
  intervals: IntervalSummary | null;
  /** Per pattern, clv_intervals' columns (sql/clv.ts INTERVAL_COLUMNS) in that order; empty arrays without intervals. */
  intervalRatios: Float64Array[];
}

/** The purchase model of the run: the one named, or (auto) all three fitted and one chosen. */
function choosePurchaseModel(input: ClvFitInput, warnings: string[]): { purchase: PurchaseFit; fitted: PurchaseFit[]; selection: Selection | null } {
  const { options, patterns, holdoutErrors } = input;
  if (options.model !== 'auto') {
    const purchase = fitPurchaseModel(options.model, patterns, options.penalty);
    return { purchase, fitted: [purchase], selection: null };
  }
  const fitted = PURCHASE_MODELS.map((model) => fitPurchaseModel(model, patterns, options.penalty));
  const method = holdoutErrors ? 'holdout' : 'aic';
  const selection = chooseModel(
    fitted.map((f) => candidateOf(f, holdoutErrors ? (holdoutErrors[f.model] ?? null) : undefined)),
    method,
    'holdout RMSE',
  );
  const purchase = fitted.find((f) => f.model === selection.chosen);
  if (!purchase) warnings.push(`--clv-model auto: ${selection.reason}`);
  // With no usable model, the default's fit stands, unavailable: its columns are null.
  return { purchase: purchase ?? fitted[0], fitted, selection };
}

/** How the intervals are drawn: models/clvIntervals.ts in this thread, or its parts split between threads (intervalThreads.ts). */
export type DrawIntervals = (input: IntervalInput) => Promise<ClvIntervals | { unavailable: string }>;

const inThisThread: DrawIntervals = async (input) => clvIntervals(input);

/**
 * The fits, the per-(frequency, T) predictions and the intervals. In this
 * thread by default: all of it runs before the promise is first awaited.
 */
export async function fitClvModels(input: ClvFitInput, drawIntervals: DrawIntervals = inThisThread): Promise<ClvFits> {
  const { options, patterns, tDays, spend } = input;
  const warnings: string[] = [];
  const { purchase, fitted, selection } = choosePurchaseModel(input, warnings);
  const { available, boundary } = usableFit(purchase);
  if (boundary) warnings.push(boundary.message);
  else if (!available) warnings.push(`${purchase.model} fit did not converge (${purchase.fit.message}); p_alive, expected_purchases and clv are null`);

  let gg: FitResult<GammaGammaParams> | null = null;
  let populationMeanSpend: number | null = null;
  if (spend.frequency.length === 0) {
    warnings.push('no repeat customers with a positive spend: Gamma-Gamma not fitted; expected_avg_value and clv are null');
  } else {
    gg = gammaGamma.fitGammaGamma(spend, { penalty: options.penalty });
    if (!gg.converged) warnings.push(`Gamma-Gamma fit did not converge (${gg.message}); expected_avg_value and clv are null`);
    else if (!(gg.params.q > 1)) warnings.push(`Gamma-Gamma q = ${gg.params.q} ≤ 1: the mean spend is undefined; expected_avg_value and clv are null`);
    else populationMeanSpend = gammaGamma.populationMeanSpend(gg.params);
  }

  const unit = DAYS_PER_UNIT[options.timeUnit];
  const empty = new Float64Array(0);
  const pairs = available ? frequencyTGroups(patterns.frequency, tDays) : { frequency: empty, T: empty, index: new Int32Array(0) };
  const pairT = pairs.T.map((d) => d / unit);
  const horizon = { horizonMonths: options.horizonMonths, monthlyDiscountRate: options.discountRate, timeUnit: options.timeUnit };
  const pairGroups = { frequency: pairs.frequency, T: pairT };
  const alive = !available
    ? { expectedPurchases: empty, discountFactor: empty }
    : purchase.model === 'paretonbd'
      ? aliveFactors(purchase.model, purchase.fit.params, pairGroups, horizon)
      : aliveFactors(purchase.model, purchase.fit.params, pairGroups, horizon);
  const patternPAlive = available && purchase.model !== 'bgnbd' ? patternProbabilityAlive(purchase, patterns) : empty;

  let intervals: IntervalSummary | null = null;
  let intervalRatios: Float64Array[] = [];
  const draws = options.draws ?? defaultDrawCount(pairs.frequency.length);
  if (available && draws > 0) {
    const drawn = await drawIntervals({
      purchase: { model: purchase.model, params: purchase.fit.params, penalty: options.penalty, ...(boundary ? { boundaryOdds: boundary.dropoutProbability / (1 - boundary.dropoutProbability) } : {}) },
      patterns,
      groupIndex: pairs.index,
      groups: pairGroups,
      horizon,
      spend: gg && populationMeanSpend !== null ? { params: gg.params, data: spend, penalty: options.penalty } : null,
      spendCustomers: input.patternSpend.customers,
      spendTotal: input.patternSpend.total,
      margin: options.margin,
      draws,
      seed: options.seed,
      level: INTERVAL_LEVEL,
    });
    if ('unavailable' in drawn) warnings.push(`no CLV intervals: ${drawn.unavailable}; clv_low and clv_high are null`);
    else {
      const { ratios, ...summary } = drawn;
      intervals = summary;
      if (ratios) intervalRatios = [...ratios.low, ratios.lowMean, ...ratios.high, ratios.highMean];
    }
  }
  return {
    purchase,
    fitted,
    selection,
    available,
    gammaGamma: gg,
    populationMeanSpend,
    warnings,
    groups: { frequency: pairs.frequency, tDays: pairs.T, expectedPurchases: alive.expectedPurchases, discountFactor: alive.discountFactor },
    patternPAlive,
    intervals,
    intervalRatios,
  };
}

/** clv_low and clv_high bound a 90% interval. */
export const INTERVAL_LEVEL = 0.9;
