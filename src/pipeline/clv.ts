import type { ScoreConfig } from '../config/schema.js';
import type { Engine } from '../engine/Engine.js';
import * as bgNbd from '../models/bgNbd.js';
import { aliveFactors, frequencyTGroups } from '../models/clv.js';
import * as gammaGamma from '../models/gammaGamma.js';
import * as paretoNbd from '../models/paretoNbd.js';
import type { BgNbdParams, FitResult, GammaGammaParams, ParetoNbdParams, PurchasePatterns, SpendPatterns } from '../models/types.js';
import {
  BACKTEST_BY_FREQUENCY_SQL,
  CLV_INPUTS_SQL,
  CLV_PARAMETERS_SQL,
  clvLayerSql,
  PACKED_PURCHASE_PATTERNS_SQL,
  PACKED_SPEND_PATTERNS_SQL,
  PATTERN_KEY_BASE_SQL,
  PURCHASE_PATTERNS_SQL,
  SPEND_PATTERNS_SQL,
} from '../sql/clv.js';
import type { Layer } from '../sql/scored.js';
import type { Logger } from './effects.js';
import { awaitedLater } from '../promises.js';

export type TimeUnit = ScoreConfig['clv']['timeUnit'];
export const DAYS_PER_UNIT: Record<TimeUnit, number> = { day: 1, week: 7, month: 30 };

type ClvOptions = ScoreConfig['clv'];

export interface ClvResult {
  timeUnit: TimeUnit;
  model: ClvOptions['model'];
  horizonMonths: number;
  discountRate: number;
  margin: number;
  patterns: number;
  /** False when the purchase model did not converge: the CLV columns are then null. */
  available: boolean;
  bgnbd?: FitResult<BgNbdParams>;
  paretonbd?: FitResult<ParetoNbdParams>;
  gammagamma: FitResult<GammaGammaParams> | null;
  populationMeanSpend: number | null;
  warnings: string[];
}

/** Exact integers in a double: the packed keys below stay within this. */
const EXACT = 2 ** 53;

/**
 * The distinct (frequency, recency, T) patterns of clv_inputs with their
 * customer counts, ordered by (frequency, recency, T), in the model time unit
 * and (for joining back) in days; and `base`, one more than the largest T in
 * days. Pulled as one packed key per pattern when that is exact (always,
 * short of 570 years of history), else as columns: every value carried into
 * JS costs a conversion, and there are up to a million of them.
 */
export async function purchasePatterns(
  engine: Engine,
  timeUnit: TimeUnit,
): Promise<{ patterns: PurchasePatterns; days: { recency: Float64Array; T: Float64Array }; base: number }> {
  const unit = DAYS_PER_UNIT[timeUnit];
  const { base } = (await engine.one<{ base: number }>(PATTERN_KEY_BASE_SQL))!;
  let frequency: Float64Array;
  let recencyDays: Float64Array;
  let tDays: Float64Array;
  let weight: Float64Array;
  if (base ** 3 <= EXACT) {
    const rows = await engine.numericColumns(PACKED_PURCHASE_PATTERNS_SQL, ['pattern', 'weight'], { base });
    const n = rows.pattern.length;
    frequency = new Float64Array(n);
    recencyDays = new Float64Array(n);
    tDays = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const key = rows.pattern[i];
      const t = key % base;
      const rest = (key - t) / base;
      const r = rest % base;
      tDays[i] = t;
      recencyDays[i] = r;
      frequency[i] = (rest - r) / base;
    }
    weight = rows.weight;
  } else {
    ({ frequency, recency_days: recencyDays, t_days: tDays, weight } = await engine.numericColumns(PURCHASE_PATTERNS_SQL, ['frequency', 'recency_days', 't_days', 'weight']));
  }
  const recency = new Float64Array(recencyDays.length);
  const T = new Float64Array(tDays.length);
  for (let i = 0; i < T.length; i++) {
    recency[i] = recencyDays[i] / unit;
    T[i] = tDays[i] / unit;
  }
  return { patterns: { frequency, recency, T, weight }, days: { recency: recencyDays, T: tDays }, base };
}

/**
 * Repeat customers' (frequency, mean repeat spend) with counts, for
 * Gamma-Gamma; frequency and count packed into one value when that is exact
 * (`customers` bounds every count, `base` every frequency).
 */
export async function spendPatterns(engine: Engine, base: number, customers: number): Promise<SpendPatterns> {
  if (customers * base > EXACT) {
    const rows = await engine.numericColumns(SPEND_PATTERNS_SQL, ['frequency', 'monetary_value', 'weight']);
    return { frequency: rows.frequency, monetaryValue: rows.monetary_value, weight: rows.weight };
  }
  const rows = await engine.numericColumns(PACKED_SPEND_PATTERNS_SQL, ['monetary_value', 'packed'], { base });
  const n = rows.packed.length;
  const frequency = new Float64Array(n);
  const weight = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const key = rows.packed[i];
    const x = key % base;
    frequency[i] = x;
    weight[i] = (key - x) / base;
  }
  return { frequency, monetaryValue: rows.monetary_value, weight };
}

type PurchaseFit = { model: 'bgnbd'; fit: FitResult<BgNbdParams> } | { model: 'paretonbd'; fit: FitResult<ParetoNbdParams> };

export function fitPurchaseModel(model: ClvOptions['model'], patterns: PurchasePatterns, penalty: number): PurchaseFit {
  return model === 'bgnbd'
    ? { model, fit: bgNbd.fitBgNbd(patterns, { penalty }) }
    : { model, fit: paretoNbd.fitParetoNbd(patterns, { penalty }) };
}

/** Conditional expected purchases in the next t time units, per pattern. */
export function predictPurchases(fitted: PurchaseFit, t: number, p: PurchasePatterns): Float64Array {
  return fitted.model === 'bgnbd'
    ? bgNbd.conditionalExpectedPurchases(fitted.fit.params, t, p.frequency, p.recency, p.T)
    : paretoNbd.conditionalExpectedPurchases(fitted.fit.params, t, p.frequency, p.recency, p.T);
}

/**
 * CLV stage: model inputs in SQL, fits on patterns in JS, predictions joined
 * back in SQL by the stage's layer. What crosses back into the engine is
 * small: one row per (frequency, T) pair with the P(alive)-free part of the
 * predictions (models/clv.ts aliveFactors), plus for Pareto/NBD one P(alive)
 * per pattern; BG/NBD's P(alive) is closed-form and computed in SQL. The
 * as-of date is run_parameters'.
 */
export async function scoreClv(engine: Engine, options: ClvOptions, log: Logger): Promise<{ result: ClvResult; layer: Layer }> {
  await engine.run(CLV_INPUTS_SQL);
  const { patterns, days, base } = await purchasePatterns(engine, options.timeUnit);
  const warnings: string[] = [];

  let customers = 0;
  for (let i = 0; i < patterns.weight.length; i++) customers += patterns.weight[i];
  // The spend query runs on DuckDB's threads while the purchase model is
  // fitted here (synchronously, on this one); it is awaited right after.
  const spendQuery = awaitedLater(spendPatterns(engine, base, customers));

  const fitted = fitPurchaseModel(options.model, patterns, options.penalty);
  // A fit that did not converge is not used at all: its parameters may be
  // anywhere (runaway values make the prediction series needlessly slow).
  const available = fitted.fit.converged;
  if (!available) warnings.push(`${options.model} fit did not converge (${fitted.fit.message}); p_alive, expected_purchases and clv are null`);

  const spend = await spendQuery;
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
  const spendAvailable = populationMeanSpend !== null;

  // Per (frequency, T) pair, keyed in days so that it joins back exactly.
  const unit = DAYS_PER_UNIT[options.timeUnit];
  const empty = new Float64Array(0);
  const groups = available ? frequencyTGroups(patterns.frequency, days.T) : { frequency: empty, T: empty };
  const groupT = groups.T.map((d) => d / unit);
  const horizon = { horizonMonths: options.horizonMonths, monthlyDiscountRate: options.discountRate, timeUnit: options.timeUnit };
  const alive = !available
    ? { expectedPurchases: empty, discountFactor: empty }
    : fitted.model === 'bgnbd'
      ? aliveFactors('bgnbd', fitted.fit.params, { frequency: groups.frequency, T: groupT }, horizon)
      : aliveFactors('paretonbd', fitted.fit.params, { frequency: groups.frequency, T: groupT }, horizon);
  await engine.loadColumns('clv_groups', {
    frequency: groups.frequency,
    t_days: groups.T,
    expected_purchases: alive.expectedPurchases,
    clv_factor: alive.discountFactor,
  });
  if (fitted.model === 'paretonbd') {
    const pAlive = available ? paretoNbd.conditionalProbabilityAlive(fitted.fit.params, patterns.frequency, patterns.recency, patterns.T) : empty;
    const rows = available ? patterns.frequency.length : 0;
    await engine.loadColumns('clv_patterns', {
      frequency: patterns.frequency.subarray(0, rows),
      recency_days: days.recency.subarray(0, rows),
      t_days: days.T.subarray(0, rows),
      p_alive: pAlive,
    });
  }
  const ggParams = gg?.params ?? { p: 0, q: 0, gamma: 0 };
  // Harmless stand-ins when the fit is not used (the SQL then gives NULL), and for Pareto/NBD (P(alive) per pattern).
  const bg = fitted.model === 'bgnbd' && available ? fitted.fit.params : { r: 1, alpha: 1, a: 1, b: 1 };
  // α in days: the ratio (α+T)/(α+t_x) in P(alive) is taken on day counts.
  const pAliveParams = { purchaseAvailable: available, r: bg.r, a: bg.a, b: bg.b, alphaDays: bg.alpha * unit };
  await engine.run(CLV_PARAMETERS_SQL, {
    ...pAliveParams,
    spendAvailable,
    p: ggParams.p,
    q: ggParams.q,
    gamma: ggParams.gamma,
    populationMeanSpend: populationMeanSpend ?? 0,
    daysPerUnit: unit,
    margin: options.margin,
  });
  for (const warning of warnings) log.warn(warning);

  const result: ClvResult = {
    timeUnit: options.timeUnit,
    model: options.model,
    horizonMonths: options.horizonMonths,
    discountRate: options.discountRate,
    margin: options.margin,
    patterns: patterns.frequency.length,
    available,
    ...(fitted.model === 'bgnbd' ? { bgnbd: fitted.fit } : { paretonbd: fitted.fit }),
    gammagamma: gg,
    populationMeanSpend,
    warnings,
  };
  return { result, layer: clvLayerSql(fitted.model === 'bgnbd' ? 'bgnbd' : 'patterns') };
}

export interface BacktestResult {
  customers: number;
  actualTotal: number;
  predictedTotal: number;
  mae: number;
  holdoutLength: number;
  timeUnit: TimeUnit;
  model: ClvOptions['model'];
  fit: FitResult<unknown>;
  byFrequency: { frequency: string; customers: number; actual: number; predicted: number; actualMean: number; predictedMean: number }[];
}

/**
 * Calibration/holdout check: fit on transactions up to the calibration end,
 * predict each customer's purchase days in the holdout, compare.
 */
export async function runBacktest(
  engine: Engine,
  options: ClvOptions,
  calibrationEnd: string,
  holdoutEnd: string,
): Promise<BacktestResult> {
  // computeFeatures ran as of the calibration end, so clv_inputs is as of then.
  await engine.run(CLV_INPUTS_SQL);
  const { patterns, days } = await purchasePatterns(engine, options.timeUnit);
  const fitted = fitPurchaseModel(options.model, patterns, options.penalty);
  const holdoutDays = (Date.parse(holdoutEnd) - Date.parse(calibrationEnd)) / 86_400_000;
  const t = holdoutDays / DAYS_PER_UNIT[options.timeUnit];
  const predicted = predictPurchases(fitted, t, patterns);
  await engine.loadColumns('clv_patterns', { frequency: patterns.frequency, recency_days: days.recency, t_days: days.T, predicted });
  const rows = await engine.all<{ bucket: number; customers: number; actual: number; predicted: number; abs_error: number }>(BACKTEST_BY_FREQUENCY_SQL, {
    calibrationEnd,
    holdoutEnd,
  });
  const customers = rows.reduce((s, r) => s + r.customers, 0);
  return {
    customers,
    actualTotal: rows.reduce((s, r) => s + r.actual, 0),
    predictedTotal: rows.reduce((s, r) => s + r.predicted, 0),
    mae: rows.reduce((s, r) => s + r.abs_error, 0) / customers,
    holdoutLength: t,
    timeUnit: options.timeUnit,
    model: options.model,
    fit: fitted.fit as FitResult<unknown>,
    byFrequency: rows.map((r) => ({
      frequency: r.bucket === 7 ? '7+' : String(r.bucket),
      customers: r.customers,
      actual: r.actual,
      predicted: r.predicted,
      actualMean: r.actual / r.customers,
      predictedMean: r.predicted / r.customers,
    })),
  };
}
