import type { QueryEngine, RunHistory } from '../engine/Engine.js';
import type { ReportData } from './data.js';
import { isPurchaseModel, modelName } from './format.js';
import { LIFECYCLE_STAGES } from '../config/lists.js';
import {
  CLV_LOG_BINS_SQL,
  HISTORY_RUNS_SQL,
  HISTORY_SHARES_SQL,
  MODEL_RANGE_SQL,
  P_ALIVE_BINS_SQL,
  RECENT_RUNS_SQL,
  REPORT_CLUSTERS_SQL,
  REPORT_DECILES_SQL,
  REPORT_RUN_SQL,
  REPORT_SEGMENTS_SQL,
  REPORT_STAGES_SQL,
  RFM_HEATMAP_SQL,
} from './queries.js';
import { modelMatrix, type PurchaseModelName } from '../stages/clv/clvDiagnostics.js';
import { previousRunWithScores } from '../stages/history/stage.js';
import { migrationBetween, resolveRun } from '../stages/history/runs.js';


/** Gathers one run's figures from the history database for the HTML report. */
export async function gatherReportData(engine: QueryEngine, history: RunHistory, run: number | undefined): Promise<ReportData> {
  const runId = await resolveRun(engine, history, run);
  const p = { runId };
  const [h, d] = [history.qualifier, engine.dialect];
  const info = (await engine.one<Record<string, any>>(REPORT_RUN_SQL(h, d), p))!;
  const summary = JSON.parse(info.summary);
  const clv = summary.clv;
  const purchase = clv ? clv[clv.model] : null;
  // Runs recorded before the boundary was reported have no such key.
  const boundary: { dropoutProbability: number } | null = purchase?.boundary ?? null;

  const previous = await previousRunWithScores(engine, history, runId);
  const migration = previous !== null ? await migrationBetween(engine, history, 'segment', previous, runId) : null;

  const stages = await engine.all<NonNullable<ReportData['stages']>[number]>(REPORT_STAGES_SQL(h, d), p);
  stages.sort((a, b) => stageIndex(a.stage) - stageIndex(b.stage));
  const clusters = await engine.all<NonNullable<ReportData['clusters']>[number]>(REPORT_CLUSTERS_SQL(h, d), p);
  const clvDistribution = clv?.available ? clvLogBins(await engine.all<ClvLogBin>(CLV_LOG_BINS_SQL(h, d), p)) : null;
  const pAliveHistogram = clv?.available ? pAliveBins(await engine.all<{ bin: number; customers: number }>(P_ALIVE_BINS_SQL(h), p)) : null;
  let matrix: ReportData['modelMatrix'] = null;
  if (clv?.available && purchase?.params && isPurchaseModel(clv.model)) {
    const range = await engine.one<{ maxT: number | null; maxFrequency: number | null }>(MODEL_RANGE_SQL(h, d), p);
    if (range?.maxT != null && range.maxT > 0) {
      const maxFrequency = Math.max(1, Math.ceil(range.maxFrequency ?? 1));
      const m = modelMatrix(clv.model as PurchaseModelName, purchase.params, { T: range.maxT, maxFrequency, timeUnit: clv.timeUnit, horizonMonths: clv.horizonMonths });
      matrix = { model: modelName(clv.model), T: m.T, timeUnit: m.timeUnit, horizonMonths: m.horizonMonths, maxFrequency, cells: m.cells };
    }
  }

  return {
    title: `crm report — run ${runId} (as of ${info.as_of})`,
    run: { id: runId, asOf: info.as_of, startedAt: info.started_at, finishedAt: info.finished_at, inputs: JSON.parse(info.inputs) },
    totals: { customers: info.customers, revenue: info.revenue, rowsRead: info.rows_read, rowsRejected: info.rows_rejected, rowsExcluded: info.rows_excluded },
    fit: purchase
      ? {
          model: modelName(String(clv.model)),
          timeUnit: clv.timeUnit,
          // At the boundary a and b only stand in for ∞ (a + b = 1e15): not figures to show.
          params: boundary ? { r: purchase.params.r, alpha: purchase.params.alpha } : purchase.params,
          logLikelihood: purchase.logLikelihood,
          converged: purchase.converged,
          boundary: boundary && { dropoutProbability: boundary.dropoutProbability },
          gammaGamma: clv.gammagamma
            ? { params: clv.gammagamma.params, logLikelihood: clv.gammagamma.logLikelihood, converged: clv.gammagamma.converged }
            : null,
        }
      : null,
    rfmHeatmap: await engine.all(RFM_HEATMAP_SQL(h, d), p),
    segments: await engine.all(REPORT_SEGMENTS_SQL(h, d), p),
    deciles: await engine.all(REPORT_DECILES_SQL(h, d), p),
    clvDistribution,
    pAliveHistogram,
    periodTransactions: Array.isArray(clv?.periodTransactions) ? clv.periodTransactions : null,
    modelMatrix: matrix,
    holdout: holdoutOf(clv?.holdout),
    history: await historyOf(engine, history, runId),
    stages: stages.length ? stages : null,
    clusters: clusters.length ? clusters : null,
    migration: migration ? { fromRun: migration.fromRun, toRun: migration.toRun, by: 'segment', cells: migration.cells } : null,
  };
}

const stageIndex = (stage: string) => (LIFECYCLE_STAGES as readonly string[]).indexOf(stage);

interface ClvLogBin {
  k: number | null;
  customers: number;
  minClv: number;
  maxClv: number;
}

/** Bins shown: five decades below the highest; anything lower (CLV ≤ 0 included) is counted as "under" the lowest edge. */
const CLV_BINS_SHOWN = 20;

export function clvLogBins(rows: readonly ClvLogBin[]): ReportData['clvDistribution'] {
  if (rows.length === 0) return null;
  const positive = rows.filter((r) => r.k !== null).sort((a, b) => a.k! - b.k!);
  const top = positive.length ? positive[positive.length - 1].k! : 0;
  const lowestK = top - CLV_BINS_SHOWN + 1;
  const shown = positive.filter((r) => r.k! >= lowestK);
  const under = rows.filter((r) => r.k === null || r.k < lowestK).reduce((s, r) => s + Number(r.customers), 0);
  return {
    bins: shown.map((r) => ({
      binStart: Math.min(10 ** (r.k! / 4), r.minClv),
      // ln rounds: a CLV of exactly 1,000 can land in the bin below; the edge then moves to it.
      binEnd: Math.max(10 ** ((r.k! + 1) / 4), r.maxClv),
      customers: Number(r.customers),
      minClv: r.minClv,
      maxClv: r.maxClv,
    })),
    // With no positive CLV at all, everyone is under a cent.
    below: under > 0 ? { edge: positive.length ? 10 ** (lowestK / 4) : 0.01, customers: under } : null,
  };
}

function pAliveBins(rows: readonly { bin: number; customers: number }[]): ReportData['pAliveHistogram'] {
  if (rows.length === 0) return null;
  const counts = new Map(rows.map((r) => [Number(r.bin), Number(r.customers)]));
  return Array.from({ length: 20 }, (_, i) => ({ binStart: i / 20, binEnd: (i + 1) / 20, customers: counts.get(i) ?? 0 }));
}

/** summary.clv.holdout (crm score --holdout-days) as the report draws it; null when absent or without its tables. */
export function holdoutOf(h: any): ReportData['holdout'] {
  if (!h || !Array.isArray(h.byFrequency)) return null;
  return {
    calibrationEnd: String(h.calibrationEnd ?? ''),
    holdoutEnd: String(h.holdoutEnd ?? ''),
    model: modelName(String(h.model ?? '')),
    timeUnit: String(h.timeUnit ?? ''),
    customers: h.customers ?? 0,
    actualTotal: h.actualTotal ?? 0,
    predictedTotal: h.predictedTotal ?? null,
    mae: h.mae ?? null,
    byFrequency: h.byFrequency,
    tracking: Array.isArray(h.tracking) ? h.tracking : [],
  };
}

/** The last runs of the history up to `runId`, with their figures; null when the history has only this run. */
async function historyOf(engine: QueryEngine, history: RunHistory, runId: number): Promise<ReportData['history']> {
  const [h, d] = [history.qualifier, engine.dialect];
  const ids = await engine.all<{ run_id: number }>(RECENT_RUNS_SQL(h), { runId });
  if (ids.length === 0) return null;
  const p = { runId, fromRun: Math.min(...ids.map((r) => Number(r.run_id))) };
  const runs = await engine.all<{ runId: number; asOf: string; customers: number; summary: string; revenue: number | null; meanPAlive: number | null; totalClv: number | null }>(
    HISTORY_RUNS_SQL(h, d),
    p,
  );
  return {
    runs: runs.map((r) => {
      const clv = JSON.parse(r.summary).clv;
      const interval = clv?.intervals?.totals?.clv;
      return {
        runId: Number(r.runId),
        asOf: r.asOf,
        model: clv?.model ? modelName(String(clv.model)) : null,
        customers: Number(r.customers),
        revenue: r.revenue,
        meanPAlive: r.meanPAlive,
        totalClv: r.totalClv,
        clvInterval: interval && Number.isFinite(interval.low) && Number.isFinite(interval.high) ? { low: interval.low, high: interval.high } : null,
      };
    }),
    segments: await engine.all(HISTORY_SHARES_SQL(h, d, 'rfm_segment', 'segment'), p),
    stages: await engine.all(HISTORY_SHARES_SQL(h, d, 'lifecycle_stage', 'stage'), p),
  };
}
