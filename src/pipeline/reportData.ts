import type { QueryEngine, RunHistory } from '../engine/Engine.js';
import type { ReportData } from '../report/data.js';
import { LIFECYCLE_STAGES } from '../config/lists.js';
import {
  CLV_HISTOGRAM_SQL,
  REPORT_CLUSTERS_SQL,
  REPORT_DECILES_SQL,
  REPORT_RUN_SQL,
  REPORT_SEGMENTS_SQL,
  REPORT_STAGES_SQL,
  RFM_HEATMAP_SQL,
} from '../sql/report.js';
import { previousRunWithScores } from './history.js';
import { migrationBetween, resolveRun } from './runs.js';

/** How the report names the purchase models (the summary keeps the option values). */
const MODEL_NAMES: Record<string, string> = { bgnbd: 'BG/NBD', mbgnbd: 'MBG/NBD', paretonbd: 'Pareto/NBD' };

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
  const histogram = clv?.available ? await engine.all<{ binStart: number; binEnd: number; customers: number }>(CLV_HISTOGRAM_SQL(h, d), p) : [];

  return {
    title: `crm report — run ${runId} (as of ${info.as_of})`,
    run: { id: runId, asOf: info.as_of, startedAt: info.started_at, finishedAt: info.finished_at, inputs: JSON.parse(info.inputs) },
    totals: { customers: info.customers, revenue: info.revenue, rowsRead: info.rows_read, rowsRejected: info.rows_rejected, rowsExcluded: info.rows_excluded },
    fit: purchase
      ? {
          model: MODEL_NAMES[clv.model as string] ?? String(clv.model),
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
    clvHistogram: histogram.length ? histogram.map(({ binStart, binEnd, customers }) => ({ binStart, binEnd, customers })) : null,
    stages: stages.length ? stages : null,
    clusters: clusters.length ? clusters : null,
    migration: migration ? { fromRun: migration.fromRun, toRun: migration.toRun, by: 'segment', cells: migration.cells } : null,
  };
}

const stageIndex = (stage: string) => (LIFECYCLE_STAGES as readonly string[]).indexOf(stage);
