import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { ScoreConfig } from '../../config/schema.js';
import type { Engine, QueryEngine } from '../../engine/Engine.js';
import { runStatements } from '../../engine/tables.js';
import type { BgNbdFitResult, BgNbdParams, FitResult, GammaGammaParams, ParetoNbdParams, PurchasePatterns, SpendPatterns } from '../../models/types.js';
import { candidateOf, DAYS_PER_UNIT, fitClvModels, fitPurchaseModel, predictPurchases, usableFit, type ClvFitInput, type ClvFits, type IntervalSummary, type PurchaseFit, type TimeUnit } from './clvFits.js';
import { PURCHASE_MODELS, type PurchaseModelName } from '../../config/lists.js';
import { chooseModel, type Selection } from '../../models/modelChoice.js';
import {
  BACKTEST_GROUPS_SQL,
  clvInputsSql,
  clvParametersSql,
  clvLayerSql,
  INTERVAL_COLUMNS,
  packedPurchasePatternsSql,
  packedSpendPatternsSql,
  PATTERN_KEY_BASE_SQL,
  purchasePatternsSql,
  spendPatternsSql,
} from './queries.js';
import { BACKTEST_WEEKLY_SQL } from './backtestQueries.js';
import type { Layer } from '../scored/queries.js';
import { expectedPurchaseTotals, periodTransactionsOf, trackingCurve, type PeriodTransactionsRow, type TrackingPoint } from './clvDiagnostics.js';
import type { Logger } from '../../effects.js';
import { awaitedLater } from '../../promises.js';
import { TABLES_BY_STAGE, type StageContract } from '../tables.js';

export { DAYS_PER_UNIT, type TimeUnit };

type ClvOptions = ScoreConfig['clv'];

export interface ClvResult {
  timeUnit: TimeUnit;
  /** The purchase model used: the one named, or auto's choice (selection says why). */
  model: PurchaseModelName;
  horizonMonths: number;
  discountRate: number;
  margin: number;
  patterns: number;
  /** False when the purchase model did not converge (short of BG/NBD's boundary limit): the CLV columns are then null. */
  available: boolean;
  /** With `boundary` set when a, b ran to infinity (predictions then use the fixed-dropout limit). */
  bgnbd?: BgNbdFitResult;
  mbgnbd?: FitResult<BgNbdParams>;
  paretonbd?: FitResult<ParetoNbdParams>;
  gammagamma: FitResult<GammaGammaParams> | null;
  populationMeanSpend: number | null;
  /** Customers by calibration repeat purchases (0..6, 7+), actual vs expected under the fit (clvDiagnostics.ts). */
  periodTransactions: PeriodTransactionsRow[];
  /** --clv-model auto: every candidate's log-likelihood, AIC (and holdout error) and which was chosen, and why. */
  selection?: Selection;
  /** --holdout-days: the used model fitted up to the calibration end and compared with the holdout (a BacktestResult). */
  holdout?: HoldoutResult;
  /** The population totals with their intervals, and how they were drawn (clv_low, clv_high per customer); null when not drawn. */
  intervals: IntervalSummary | null;
  warnings: string[];
}

/** summary.clv.holdout: the backtest of the used model, its error being the RMSE. */
export type HoldoutResult = { calibrationEnd: string; holdoutEnd: string; days: number; error: number | null } & BacktestResult;

/** The backtests of a --holdout-days run, one per candidate model. */
export interface Holdout {
  calibrationEnd: string;
  holdoutEnd: string;
  days: number;
  backtests: Partial<Record<PurchaseModelName, BacktestResult>>;
}

/** The models --clv-model names: auto's candidates, or the one. */
export const candidateModels = (model: ClvOptions['model']): readonly PurchaseModelName[] => (model === 'auto' ? PURCHASE_MODELS : [model]);

/**
 * --holdout-days: each candidate fitted on the customers as of the
 * calibration end (computeFeatures ran as of then) and compared with the
 * purchase days up to the holdout end (the run's as-of date).
 */
export async function runHoldout(engine: Engine, options: ClvOptions, calibrationEnd: string, holdoutEnd: string, days: number): Promise<Holdout> {
  const backtests: Holdout['backtests'] = {};
  for (const model of candidateModels(options.model)) backtests[model] = await runBacktest(engine, { ...options, model }, calibrationEnd, holdoutEnd);
  return { calibrationEnd, holdoutEnd, days, backtests };
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
  engine: QueryEngine,
  timeUnit: TimeUnit,
): Promise<{ patterns: PurchasePatterns; days: { recency: Float64Array; T: Float64Array }; base: number; patternSpend: ClvFitInput['patternSpend'] }> {
  const unit = DAYS_PER_UNIT[timeUnit];
  const { base } = (await engine.one<{ base: number }>(PATTERN_KEY_BASE_SQL))!;
  let frequency: Float64Array;
  let recencyDays: Float64Array;
  let tDays: Float64Array;
  let weight: Float64Array;
  let patternSpend: ClvFitInput['patternSpend'];
  if (base ** 3 <= EXACT) {
    const rows = await engine.numericColumns(packedPurchasePatternsSql(engine.dialect), ['pattern', 'weight', 'spend_customers', 'spend_total'], { base });
    patternSpend = { customers: rows.spend_customers, total: rows.spend_total };
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
    const rows = await engine.numericColumns(purchasePatternsSql(engine.dialect), ['frequency', 'recency_days', 't_days', 'weight', 'spend_customers', 'spend_total']);
    ({ frequency, recency_days: recencyDays, t_days: tDays, weight } = rows);
    patternSpend = { customers: rows.spend_customers, total: rows.spend_total };
  }
  const recency = new Float64Array(recencyDays.length);
  const T = new Float64Array(tDays.length);
  for (let i = 0; i < T.length; i++) {
    recency[i] = recencyDays[i] / unit;
    T[i] = tDays[i] / unit;
  }
  return { patterns: { frequency, recency, T, weight }, days: { recency: recencyDays, T: tDays }, base, patternSpend };
}

/**
 * Repeat customers' (frequency, mean repeat spend) with counts, for
 * Gamma-Gamma; frequency and count packed into one value when that is exact
 * (`customers` bounds every count, `base` every frequency).
 */
export async function spendPatterns(engine: QueryEngine, base: number, customers: number): Promise<SpendPatterns> {
  if (customers * base > EXACT) {
    const rows = await engine.numericColumns(spendPatternsSql(engine.dialect), ['frequency', 'monetary_value', 'weight']);
    return { frequency: rows.frequency, monetaryValue: rows.monetary_value, weight: rows.weight };
  }
  const rows = await engine.numericColumns(packedSpendPatternsSql(engine.dialect), ['monetary_value', 'packed'], { base });
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

/** The CLV fits (clvFits.ts), run apart from the engine's work. */
export interface Fitter {
  /** Hands the fits their input. */
  start(input: ClvFitInput): void;
  /** The fits, once started. */
  result(): Promise<ClvFits>;
  /** Stops a worker that is no longer wanted. */
  cancel(): void;
}

/**
 * Runs fitClvModels in a worker thread, so that the engine can serve the next
 * stages meanwhile, when the compiled worker `script` is there (dist/ and the
 * bundle); in this thread otherwise (tests run the TypeScript sources). Same
 * function, same inputs: the same numbers either way. The worker is started
 * before its input is ready, so that it boots while the engine pulls the
 * patterns.
 */
export function backgroundFitter(log: Logger, script: URL = new URL('./clvWorker.js', import.meta.url)): Fitter {
  if (!existsSync(script)) {
    let fits: Promise<ClvFits> | null = null;
    return {
      start: (input) => {
        log.debug('fitting the CLV models in this thread');
        fits = awaitedLater(new Promise((resolve) => resolve(fitClvModels(input))));
      },
      result: () => fits!,
      cancel: () => {},
    };
  }
  const worker = new Worker(script);
  // Not a reason to keep the process alive by itself (a run that fails
  // meanwhile exits at once); held only while its answer is awaited.
  worker.unref();
  const reply = awaitedLater(
    new Promise<ClvFits>((resolve, reject) => {
      worker.once('message', (message: { fits?: ClvFits; error?: { message: string; stack?: string } }) => {
        if (message.fits) resolve(message.fits);
        else reject(Object.assign(new Error(message.error!.message), { stack: message.error!.stack }));
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the CLV fit worker exited with code ${code} before it answered`)));
    }),
  );
  const cancel = () => void worker.terminate();
  return {
    start: (input) => {
      log.debug({ patterns: input.patterns.frequency.length, spendPatterns: input.spend.frequency.length }, 'fitting the CLV models in a worker thread');
      worker.postMessage(input);
    },
    result: () => {
      worker.ref();
      return reply.finally(cancel);
    },
    cancel,
  };
}

/** A CLV stage started: its layer, and the step that waits for the fits and hands them to the engine. */
export interface StartedClv {
  layer: Layer;
  finish: () => Promise<ClvResult>;
}

/**
 * CLV stage: model inputs in SQL, fits on patterns in JS, predictions joined
 * back in SQL by the stage's layer. What crosses back into the engine is
 * small: one row per (frequency, T) pair with the P(alive)-free part of the
 * predictions (models/clv.ts aliveFactors), plus for Pareto/NBD one P(alive)
 * per pattern; BG/NBD's P(alive) is closed-form and computed in SQL. The
 * as-of date is run_parameters'.
 *
 * In two steps: this pulls the patterns and starts the fits (clvFits.ts) in
 * the background; `finish` waits for them and gives the engine their
 * results. Between the two the engine is free for stages that do not need
 * the CLV columns.
 */
export async function startClv(engine: QueryEngine, options: ClvOptions, log: Logger, holdout: Holdout | null = null, threads?: number): Promise<StartedClv> {
  const fitter = backgroundFitter(log);
  let patterns: PurchasePatterns;
  let days: { recency: Float64Array; T: Float64Array };
  try {
    await runStatements(engine, clvInputsSql(engine.dialect));
    let base: number;
    let patternSpend: ClvFitInput['patternSpend'];
    ({ patterns, days, base, patternSpend } = await purchasePatterns(engine, options.timeUnit));
    let customers = 0;
    for (let i = 0; i < patterns.weight.length; i++) customers += patterns.weight[i];
    const spend = await spendPatterns(engine, base, customers);
    const holdoutErrors = holdout ? Object.fromEntries(Object.entries(holdout.backtests).map(([model, b]) => [model, b.rmse])) : undefined;
    fitter.start({ options, patterns, tDays: days.T, spend, patternSpend, ...(holdoutErrors ? { holdoutErrors } : {}), ...(threads ? { threads } : {}) });
  } catch (error) {
    fitter.cancel();
    throw error;
  }

  // The model that gives P(alive), known once the fits are in (auto chooses then).
  let used: PurchaseModelName = options.model === 'auto' ? 'bgnbd' : options.model;
  const finish = async (): Promise<ClvResult> => {
    const fits = await fitter.result();
    const { purchase, available, groups } = fits;
    used = purchase.model;
    if (fits.selection) log.info({ model: purchase.model, method: fits.selection.method }, `--clv-model auto: ${fits.selection.reason}`);
    const unit = DAYS_PER_UNIT[options.timeUnit];
    await engine.loadColumns('clv_groups', {
      frequency: groups.frequency,
      t_days: groups.tDays,
      expected_purchases: groups.expectedPurchases,
      clv_factor: groups.discountFactor,
    });
    const intervalRows = fits.intervalRatios.length ? patterns.frequency.length : 0;
    await engine.loadColumns('clv_intervals', {
      frequency: patterns.frequency.subarray(0, intervalRows),
      recency_days: days.recency.subarray(0, intervalRows),
      t_days: days.T.subarray(0, intervalRows),
      ...Object.fromEntries(INTERVAL_COLUMNS.map((name, k) => [name, fits.intervalRatios[k] ?? new Float64Array(0)])),
    });
    if (purchase.model !== 'bgnbd') {
      const rows = available ? patterns.frequency.length : 0;
      await engine.loadColumns('clv_patterns', {
        frequency: patterns.frequency.subarray(0, rows),
        recency_days: days.recency.subarray(0, rows),
        t_days: days.T.subarray(0, rows),
        p_alive: fits.patternPAlive,
      });
    }
    const ggParams = fits.gammaGamma?.params ?? { p: 0, q: 0, gamma: 0 };
    // Harmless stand-ins when the fit is not used (the SQL then gives NULL), and for the other models (P(alive) per pattern).
    const bg = purchase.model === 'bgnbd' && available ? purchase.fit.params : { r: 1, alpha: 1, a: 1, b: 1 };
    // α in days: the ratio (α+T)/(α+t_x) in P(alive) is taken on day counts.
    await runStatements(engine, clvParametersSql(engine.dialect), {
      purchaseAvailable: available,
      r: bg.r,
      a: bg.a,
      b: bg.b,
      alphaDays: bg.alpha * unit,
      spendAvailable: fits.populationMeanSpend !== null,
      p: ggParams.p,
      q: ggParams.q,
      gamma: ggParams.gamma,
      populationMeanSpend: fits.populationMeanSpend ?? 0,
      daysPerUnit: unit,
      margin: options.margin,
    });
    for (const warning of fits.warnings) log.warn(warning);
    const backtest = holdout?.backtests[purchase.model];
    return {
      timeUnit: options.timeUnit,
      model: purchase.model,
      horizonMonths: options.horizonMonths,
      discountRate: options.discountRate,
      margin: options.margin,
      patterns: patterns.frequency.length,
      available,
      ...Object.fromEntries(fits.fitted.map((f) => [f.model, f.fit])),
      gammagamma: fits.gammaGamma,
      populationMeanSpend: fits.populationMeanSpend,
      periodTransactions: periodTransactionsOf(purchase, available, patterns),
      ...(fits.selection ? { selection: fits.selection } : {}),
      // The BacktestResult spread as it is, so that what it carries reaches the summary.
      ...(holdout && backtest ? { holdout: { calibrationEnd: holdout.calibrationEnd, holdoutEnd: holdout.holdoutEnd, days: holdout.days, error: backtest.rmse, ...backtest } } : {}),
      intervals: fits.intervals,
      warnings: fits.warnings,
    };
  };
  return { layer: (source) => clvLayerSql(engine.dialect, used === 'bgnbd' ? 'bgnbd' : 'patterns')(source), finish };
}

/** The CLV stage in one step (start, then finish). */
export async function scoreClv(engine: Engine, options: ClvOptions, log: Logger, holdout: Holdout | null = null): Promise<{ result: ClvResult; layer: Layer }> {
  const { layer, finish } = await startClv(engine, options, log, holdout);
  return { result: await finish(), layer };
}

/** Predicted figures are null where a customer has no prediction (see runBacktest's warnings). */
export interface BacktestResult {
  customers: number;
  actualTotal: number;
  predictedTotal: number | null;
  mae: number | null;
  /** Root mean squared error of the customers' predicted holdout purchase days: --holdout-days' error. */
  rmse: number | null;
  holdoutLength: number;
  timeUnit: TimeUnit;
  model: PurchaseModelName;
  fit: FitResult<unknown>;
  byFrequency: { frequency: string; customers: number; actual: number; predicted: number | null; actualMean: number; predictedMean: number | null }[];
  /**
   * CLVTools' tracking plot: cumulative repeat purchases (purchase days) of
   * the calibration customers from the calibration end to the end of each
   * week of the holdout (`day` = days after the calibration end; the last
   * week ends at the holdout end), actual and expected under the fit.
   */
  tracking: TrackingPoint[];
  /** Why predictions are missing, if they are. */
  warnings: string[];
  /** crm backtest --clv-model auto: the three models' holdout RMSEs and the one reported. */
  selection?: Selection;
}

/** Customers of one calibration bucket (frequency 0..6, 7 for 7+) with the same pattern and the same holdout purchase days. */
export interface BacktestGroup {
  bucket: number;
  /** The pattern's predicted purchase days in the holdout; null where the model gave none. */
  predicted: number | null;
  actual: number;
  customers: number;
}

/**
 * Per-bucket totals from the groups, added in the groups' order (bucket, then
 * pattern, then actual), so the same input gives the same bits. A bucket with
 * a customer the model did not predict has no predicted total: never a sum of
 * the others.
 */
export function backtestBuckets(groups: readonly BacktestGroup[]) {
  const buckets = new Map<number, { bucket: number; customers: number; actual: number; predicted: number | null; abs_error: number | null; squared_error: number | null; unpredicted: number }>();
  for (const g of groups) {
    let b = buckets.get(g.bucket);
    if (!b) buckets.set(g.bucket, (b = { bucket: g.bucket, customers: 0, actual: 0, predicted: 0, abs_error: 0, squared_error: 0, unpredicted: 0 }));
    b.customers += g.customers;
    b.actual += g.customers * g.actual;
    if (g.predicted === null) b.unpredicted += g.customers;
    else {
      b.predicted! += g.customers * g.predicted;
      b.abs_error! += g.customers * Math.abs(g.actual - g.predicted);
      b.squared_error! += g.customers * (g.actual - g.predicted) ** 2;
    }
  }
  return [...buckets.values()].map((b) => (b.unpredicted > 0 ? { ...b, predicted: null, abs_error: null, squared_error: null } : b));
}

/**
 * Calibration/holdout check: fit on transactions up to the calibration end,
 * predict each customer's purchase days in the holdout, compare. A fit that
 * did not converge predicts nothing, as in crm score: its parameters may be
 * anywhere (runaway values give NaN), and a comparison with them would be
 * garbage. BG/NBD at its boundary predicts from the fixed-dropout limit, as
 * in crm score, with the boundary's warning (usableFit).
 */
export async function runBacktest(
  engine: Engine,
  options: ClvOptions,
  calibrationEnd: string,
  holdoutEnd: string,
): Promise<BacktestResult> {
  // computeFeatures ran as of the calibration end, so clv_inputs is as of then.
  await runStatements(engine, clvInputsSql(engine.dialect));
  if (options.model === 'auto') return autoBacktest(engine, options, calibrationEnd, holdoutEnd);
  const { patterns, days } = await purchasePatterns(engine, options.timeUnit);
  const fitted = fitPurchaseModel(options.model, patterns, options.penalty);
  const holdoutDays = (Date.parse(holdoutEnd) - Date.parse(calibrationEnd)) / 86_400_000;
  const t = holdoutDays / DAYS_PER_UNIT[options.timeUnit];
  const { available, boundary } = usableFit(fitted);
  // NaN is loaded as NULL: no prediction.
  const predicted = available ? predictPurchases(fitted, t, patterns) : new Float64Array(patterns.frequency.length).fill(Number.NaN);
  await engine.loadColumns('clv_patterns', { frequency: patterns.frequency, recency_days: days.recency, t_days: days.T, predicted });
  const groups = await engine.all<BacktestGroup>(BACKTEST_GROUPS_SQL, { calibrationEnd, holdoutEnd });
  const rows = backtestBuckets(groups);
  const customers = rows.reduce((s, r) => s + r.customers, 0);
  const unpredicted = rows.reduce((s, r) => s + r.unpredicted, 0);
  const warnings: string[] = [];
  if (boundary) warnings.push(boundary.message);
  if (!available) warnings.push(`${options.model} fit did not converge (${fitted.fit.message}); no purchases are predicted`);
  else if (unpredicted > 0) warnings.push(`${unpredicted} of ${customers} customers have no prediction (the ${options.model} model gave no finite value); the predicted totals are missing`);
  const total = (column: 'predicted' | 'abs_error' | 'squared_error') => (unpredicted > 0 ? null : rows.reduce((s, r) => s + r[column]!, 0));
  const absError = total('abs_error');
  const weekly = await engine.all<{ week: number; purchases: number }>(BACKTEST_WEEKLY_SQL, { calibrationEnd, holdoutEnd });
  const predictsAll = available && unpredicted === 0;
  const tracking = trackingCurve(weekly, holdoutDays, predictsAll ? (days) => expectedPurchaseTotals(fitted, patterns, days.map((d) => d / DAYS_PER_UNIT[options.timeUnit])) : null);
  const squaredError = total('squared_error');
  return {
    customers,
    actualTotal: rows.reduce((s, r) => s + r.actual, 0),
    predictedTotal: total('predicted'),
    mae: absError === null ? null : absError / customers,
    rmse: squaredError === null ? null : Math.sqrt(squaredError / customers),
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
      predictedMean: r.predicted === null ? null : r.predicted / r.customers,
    })),
    tracking,
    warnings,
  };
}

/**
 * crm backtest --clv-model auto: each model backtested, the one with the
 * lowest holdout RMSE reported (a model that did not converge predicts
 * nothing and is never chosen), its selection beside it.
 */
async function autoBacktest(engine: Engine, options: ClvOptions, calibrationEnd: string, holdoutEnd: string): Promise<BacktestResult> {
  const results: BacktestResult[] = [];
  for (const model of PURCHASE_MODELS) results.push(await runBacktest(engine, { ...options, model }, calibrationEnd, holdoutEnd));
  const selection = chooseModel(
    results.map((r) => ({ ...candidateOf({ model: r.model, fit: r.fit } as PurchaseFit, r.rmse) })),
    'holdout',
    'holdout RMSE',
  );
  const chosen = results.find((r) => r.model === selection.chosen) ?? results[0];
  return { ...chosen, warnings: selection.chosen ? chosen.warnings : [...chosen.warnings, `--clv-model auto: ${selection.reason}`], selection };
}

/**
 * The CLV stage's tables (stages/tables.ts): the model inputs, and what the
 * fits give back for its layer (clv_patterns for a model other than BG/NBD,
 * and for a holdout's backtest, which also reads the customer days after the
 * calibration end).
 */
export const contract = {
  reads: ['customer_days', 'run_parameters', 'customer_features'],
  creates: TABLES_BY_STAGE.clv,
} as const satisfies StageContract;
