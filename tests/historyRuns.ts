/**
 * Two runs of five customers for the run-history tests, recorded through the
 * history functions the score job calls (recordRun, then markPublished) from
 * a final_scores table made here: the CLI cannot score on PostgreSQL yet, and
 * these rows make every figure of runs, migration, the report and the export
 * easy to work out by hand.
 */
import type { QueryEngine, RunHistory } from '../src/engine/Engine.js';
import { runStatements } from '../src/engine/tables.js';
import { recordRun, type RunRecord } from '../src/stages/history/stage.js';
import { markPublished } from '../src/stages/history/publish.js';
import { KNOWN_LABEL_COUNT_SQL, KNOWN_LABELS_SQL, runLabelsTableSql } from '../src/stages/scored/labelsQueries.js';
import { LABEL_COLUMNS } from '../src/stages/scored/queries.js';

/** One customer of a run: the scored columns the history commands read. */
export interface Row {
  id: string;
  revenue: number;
  orders: number;
  recency: number;
  r: number;
  f: number;
  m: number;
  segment: string;
  decile: number;
  stage: string;
  cluster: number;
  clusterLabel: string;
  clv: number;
  pAlive: number;
  previous: string | null;
}

const row = (id: string, revenue: number, orders: number, recency: number, [r, f, m]: number[], segment: string, decile: number, stage: string, cluster: number, clv: number, pAlive: number, previous: string | null): Row => ({
  id, revenue, orders, recency, r: r!, f: f!, m: m!, segment, decile, stage, cluster, clusterLabel: cluster === 1 ? 'High value' : 'Low value', clv, pAlive, previous,
});

export const RUN_1: Row[] = [
  row('A', 100.5, 3, 5, [5, 4, 4], 'Champions', 1, 'active', 1, 50.25, 0.9, null),
  row('B', 20, 1, 40, [2, 1, 1], 'Hibernating', 4, 'new', 2, 5, 0.5, null),
  row('C', 60, 2, 20, [3, 3, 3], 'Need Attention', 2, 'active', 2, 20, 0.7, null),
  row('D', 10, 1, 80, [1, 1, 1], 'Lost', 5, 'lapsed', 2, 1, 0.2, null),
  row('E', 45, 2, 10, [4, 2, 2], 'Promising', 3, 'active', 1, 15, 0.8, null),
];
// E is gone, F is new; A's R fell with M 4 (slipping), B's R fell with M 1 and a low CLV (not slipping).
export const RUN_2: Row[] = [
  row('A', 150.5, 4, 35, [3, 4, 4], 'Loyal', 1, 'active', 1, 60, 0.85, 'Champions'),
  row('B', 20, 1, 69, [1, 1, 1], 'Lost', 4, 'lapsed', 2, 4, 0.3, 'Hibernating'),
  row('C', 90, 3, 5, [5, 4, 3], 'Champions', 2, 'active', 1, 30, 0.9, 'Need Attention'),
  row('D', 10, 1, 109, [1, 1, 1], 'Lost', 5, 'lost', 2, 0.5, 0.1, 'Lost'),
  row('F', 30, 1, 3, [5, 1, 2], 'Potential Loyalist', 3, 'new', 2, 12, 0.95, null),
];

const SCORED_COLUMNS = ['customer_id', 'revenue', 'orders', 'recency_days', 'r_score', 'f_score', 'm_score', 'rfm_cell', 'rfm_segment', 'value_decile', 'clv', 'p_alive', 'lifecycle_stage', 'cluster', 'cluster_label'];

/** The run's labels as the score job gives them: the history's, then new ones after; returns how many the history had. */
async function runLabels(engine: QueryEngine, history: RunHistory, rows: readonly Row[]): Promise<{ known: number; id: (label: string | null) => number | null }> {
  await runStatements(engine, runLabelsTableSql(engine.dialect));
  await engine.run(KNOWN_LABELS_SQL(history.qualifier));
  const known = (await engine.one<{ known: number }>(KNOWN_LABEL_COUNT_SQL))!.known;
  const ids = new Map((await engine.all<{ label_id: number; label: string }>(`SELECT label_id, label FROM run_labels`)).map((l) => [l.label, l.label_id]));
  const labels = rows.flatMap((r) => [`${r.r}${r.f}${r.m}`, r.segment, r.stage, r.clusterLabel, ...(r.previous ? [r.previous] : [])]);
  for (const label of labels) {
    if (ids.has(label)) continue;
    ids.set(label, ids.size);
    await engine.run(`INSERT INTO run_labels VALUES (?, ?)`, [ids.get(label)!, label]);
  }
  return { known, id: (label) => (label === null ? null : ids.get(label)!) };
}

/** Records a run of `rows` (pending, as the score job does before its files move), then marks it published unless told not to. */
export async function recordTestRun(engine: QueryEngine, history: RunHistory, runId: number, asOf: string, rows: readonly Row[], extra: { inputs: string[]; out: string; publish?: boolean; outDir?: string }): Promise<void> {
  const { known, id } = await runLabels(engine, history, rows);
  const q = engine.dialect.quoteIdentifier;
  const d = engine.dialect.sql;
  // Where the run's own tables go (on Citus, the run's scratch schema, distributed), as the score job makes it.
  await runStatements(engine, engine.dialect.createTempTable('final_scores', `customer_id ${d.text}, revenue ${d.double}, orders BIGINT, recency_days BIGINT,
      r_score ${d.tinyint}, f_score ${d.tinyint}, m_score ${d.tinyint}, rfm_cell INTEGER, rfm_segment INTEGER, value_decile ${d.tinyint}, clv ${d.double}, p_alive ${d.double},
      lifecycle_stage INTEGER, cluster INTEGER, cluster_label INTEGER, previous_segment INTEGER, segment_changed_at DATE`));
  for (const r of rows) {
    await engine.run(`INSERT INTO final_scores VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS DATE))`, [
      r.id, r.revenue, r.orders, r.recency, r.r, r.f, r.m, id(`${r.r}${r.f}${r.m}`), id(r.segment), r.decile, r.clv, r.pAlive, id(r.stage), r.cluster, id(r.clusterLabel), id(r.previous), asOf,
    ]);
  }
  const record: RunRecord = {
    runId,
    asOf,
    startedAt: `${asOf}T02:03:04.567Z`,
    finishedAt: `${asOf}T02:03:16.913Z`,
    durationSeconds: 12.3456,
    inputs: extra.inputs,
    rowsRead: 10 * runId,
    rowsAccepted: 10 * runId - 1,
    rowsRejected: 1,
    rowsExcluded: 0,
    customers: rows.length,
    options: { out: extra.out, keepRuns: 90, rfm: {} },
    summary: { run: { id: runId } },
  };
  // The label columns hold ids already: each is given as itself.
  const after = Object.fromEntries(LABEL_COLUMNS.map((c) => [c.name, q(c.name)]));
  await recordRun(engine, history, record, SCORED_COLUMNS, { outDir: extra.outDir ?? extra.out, staging: '.crm-staging-test', keepRuns: 90 }, known, after);
  if (extra.publish !== false) await markPublished(engine, history, runId, 90);
}

