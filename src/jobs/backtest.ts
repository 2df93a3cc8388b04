import path from 'node:path';
import type { ScoreConfig } from '../config/schema.js';
import { namingStage, UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { BacktestResult } from '../stages/clv/stage.js';
import type { Logger } from '../effects.js';
import type { Holdout } from '../report/data.js';
import { modelName } from '../report/format.js';
import { computeFeatures, featureBuckets, resolveAsOf } from '../stages/features/stage.js';
import { recoverBeforeRun } from '../stages/history/publish.js';
import { withRunEngine } from './openRunEngine.js';
import { refuseFutureDay } from './runDay.js';

export interface BacktestOptions {
  calibrationEnd: string;
  /** The last day of the holdout (default: the latest transaction date up to today). */
  holdoutEnd?: string;
  /** The folder backtest.json and backtest.csv go in, if any. */
  out?: string;
  /** An HTML page with the backtest's charts, if wanted. */
  report?: string;
}

export type BacktestReport = BacktestResult & { holdoutEnd: string };

/**
 * crm backtest: load → features as of the calibration end → the purchase
 * model fitted on it and compared with the holdout; written to `out` when given.
 */
export async function backtestJob(
  config: ScoreConfig,
  options: BacktestOptions,
  effects: { log: Logger; stage: (name: string) => () => void; now?: Date },
): Promise<BacktestReport> {
  const { log } = effects;
  const timed = async <T>(stage: string, work: () => Promise<T>): Promise<T> => {
    const end = effects.stage(stage);
    try {
      // An out-of-memory error names the stage it happened in.
      return await namingStage(stage, work);
    } finally {
      end();
    }
  };
  const { runBacktest } = await import('../stages/clv/stage.js');
  const now = effects.now ?? new Date();
  const result = await withRunEngine(
    async (engine) => {
      refuseFutureDay('--holdout-end', options.holdoutEnd, await engine.setRunDay(now), config.timezone);
      // Its --out may be a score's output folder: a publish cut short there is finished first.
      if (options.out) await recoverBeforeRun(engine, options.out, null, { log });
      const loaded = await timed('load', () => engine.ingest(config.inputs, { ...config, now }));
      if (loaded.counts.rejected > 0) {
        const { reasons } = await engine.rejectReasons(config);
        log.warn({ rejected: loaded.counts.rejected, reasons: Object.fromEntries(reasons.map((r) => [r.reason, r.rows])) }, 'rows rejected while loading (run crm score to see them)');
      }
      const holdoutEnd = await resolveAsOf(engine, options.holdoutEnd, loaded.runDay);
      if (holdoutEnd <= options.calibrationEnd) throw new UsageError(`--holdout-end ${holdoutEnd} must be after --calibration-end ${options.calibrationEnd}`);
      const features = await timed('features', () => computeFeatures(engine, options.calibrationEnd, loaded, { clv: true, lifecycle: false }, featureBuckets(engine, config.customerBuckets, loaded)));
      if (features.customers === 0) throw new UsageError(`no customers bought on or before ${options.calibrationEnd}`);
      return { holdoutEnd, ...(await timed('clv', () => runBacktest(engine, config.clv, options.calibrationEnd, holdoutEnd))) };
    },
    { timezone: config.timezone, memoryLimit: config.memoryLimit, tempDir: config.tempDir, log },
  );
  for (const warning of result.warnings) log.warn(warning);
  if (options.out) await writeBacktest(options.out, options.calibrationEnd, result, log);
  if (options.report) {
    const { renderBacktestReport } = await import('../report/backtestPage.js');
    await writeFileAtomic(options.report, await renderBacktestReport(holdoutOf(options.calibrationEnd, result), result.warnings));
    log.info({ report: options.report }, 'wrote the backtest report');
  }
  return result;
}

async function writeBacktest(out: string, calibrationEnd: string, result: BacktestReport, log: Logger): Promise<void> {
  const { byFrequency, ...rest } = result;
  await writeFileAtomic(path.join(out, 'backtest.json'), `${JSON.stringify({ calibrationEnd, ...rest, byFrequency }, null, 2)}\n`);
  const csv = [
    'frequency,customers,actual,predicted,actual_mean,predicted_mean',
    ...byFrequency.map((b) => [b.frequency, b.customers, b.actual, orEmpty(b.predicted), round(b.actualMean), orEmpty(b.predictedMean)].join(',')),
  ];
  await writeFileAtomic(path.join(out, 'backtest.csv'), `${csv.join('\n')}\n`);
  log.info({ out }, 'wrote backtest.json and backtest.csv');
}

/** The figures the report's holdout charts draw. */
function holdoutOf(calibrationEnd: string, r: BacktestReport): Holdout {
  return {
    calibrationEnd,
    holdoutEnd: r.holdoutEnd,
    model: modelName(r.model),
    timeUnit: r.timeUnit,
    customers: r.customers,
    actualTotal: r.actualTotal,
    predictedTotal: r.predictedTotal,
    mae: r.mae,
    byFrequency: r.byFrequency,
    tracking: r.tracking,
  };
}

export const round = (x: number) => Math.round(x * 10_000) / 10_000;
/** A missing prediction is an empty CSV field. */
const orEmpty = (x: number | null) => (x === null ? '' : round(x));
