/**
 * The run history on every engine of CRM_TEST_ENGINES (tests/engines.ts):
 * DuckDB's database file, PostgreSQL's schema (Citus: scores distributed by
 * customer_id). Two runs are recorded through the history functions the
 * score job calls (recordRun, markPublished) from a final_scores table made
 * by tests/historyRuns.ts, its label columns already holding label ids, as
 * the scored table's ENUM codes would; then runs, migration, the report's figures and the export
 * read them back. Every expected value is worked out by hand from the rows below.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Engine, RunHistory } from '../../src/engine/Engine.js';
import { DatabaseInUseError, UsageError } from '../../src/errors.js';
import { buildExport, type ExportFilters } from '../../src/jobs/exportSelection.js';
import { addHistoryColumns, attachHistory } from '../../src/stages/history/stage.js';
import { runStatements } from '../../src/engine/tables.js';
import { markPublished } from '../../src/stages/history/publish.js';
import { HISTORY_LAYOUT } from '../../src/stages/history/queries.js';
import { gatherReportData } from '../../src/report/reportData.js';
import { CLV_LOG_BINS_SQL, MODEL_RANGE_SQL, P_ALIVE_BINS_SQL } from '../../src/report/queries.js';
import { attachHistoryReadOnly, historyOverview, listRuns, migrationBetween, recordedRunPaths, resolveRun } from '../../src/stages/history/runs.js';
import { describeEachEngine, POSTGRES_HAS_CITUS } from '../engines.js';
import type { Logger } from '../../src/effects.js';
import { tempDir } from '../helpers.js';
import { recordTestRun, RUN_1, RUN_2 } from '../historyRuns.js';

const NO_FILTERS: ExportFilters = { segments: [], cells: [], stages: [], clusters: [] };

describeEachEngine('run history', import.meta.url, (under) => {
  let engine: Engine;
  let history: RunHistory;
  let dir: string;
  /** DuckDB's history file; PostgreSQL keeps the history in the suite's schema and does not read it. */
  let db: string;

  beforeAll(async () => {
    engine = under.engine() as Engine;
    dir = await tempDir();
    db = path.join(dir, 'crm.duckdb');
    history = await attachHistory(engine, db);
    await recordTestRun(engine, history, 1, '2024-01-31', RUN_1, { inputs: ['a.csv', 'b.csv'], out: 'out1' });
    await recordTestRun(engine, history, 2, '2024-02-29', RUN_2, { inputs: ['b.csv', 'c.csv'], out: 'out2' });
  });

  it('lists the runs with their dates as text, seconds to the millisecond and inputs as JSON', async () => {
    const runs = await listRuns(engine, history);
    expect(runs.map((r) => ({ ...r, inputs: JSON.parse(r.inputs) }))).toEqual([
      { run_id: 1, as_of: '2024-01-31', started_at: '2024-01-31T02:03:04Z', duration_seconds: 12.346, inputs: ['a.csv', 'b.csv'], rows_read: 10, rows_accepted: 9, rows_rejected: 1, rows_excluded: 0, customers: 5, scores_kept: true },
      { run_id: 2, as_of: '2024-02-29', started_at: '2024-02-29T02:03:04Z', duration_seconds: 12.346, inputs: ['b.csv', 'c.csv'], rows_read: 20, rows_accepted: 19, rows_rejected: 1, rows_excluded: 0, customers: 5, scores_kept: true },
    ]);
    const overview = await historyOverview(engine, history);
    expect({ runs: overview.runs, kept: overview.kept, keepRuns: overview.keepRuns }).toEqual({ runs: 2, kept: 2, keepRuns: '90' });
    expect(overview.bytes).toBeGreaterThan(0);
    expect(await recordedRunPaths(engine, history)).toEqual({ outFolders: ['out1', 'out2'], inputs: ['a.csv', 'b.csv', 'c.csv'] });
  });

  it('reads the labels back as text through customer_scores, each stored once in labels', async () => {
    const h = history.qualifier;
    const rows = await engine.all<{ customer_id: string; rfm_cell: string; rfm_segment: string; previous_segment: string | null; cluster_label: string }>(
      `SELECT customer_id, rfm_cell, rfm_segment, previous_segment, cluster_label FROM ${h}.customer_scores WHERE run_id = 2 ORDER BY customer_id`,
    );
    expect(rows).toEqual(RUN_2.map((r) => ({ customer_id: r.id, rfm_cell: `${r.r}${r.f}${r.m}`, rfm_segment: r.segment, previous_segment: r.previous, cluster_label: r.clusterLabel })));
    const labels = await engine.one<{ n: number; distinct_labels: number; top: number }>(`SELECT count(*)::BIGINT AS n, count(DISTINCT label)::BIGINT AS distinct_labels, max(label_id)::BIGINT AS top FROM ${h}.labels`);
    expect(labels!.n).toBe(labels!.distinct_labels);
    expect(labels!.top).toBe(labels!.n - 1);
  });

  it('migration: moves between the runs, new and gone customers on their own, revenue of the later run', async () => {
    const { fromRun, toRun, cells } = await migrationBetween(engine, history, 'segment', undefined, undefined);
    expect({ fromRun, toRun }).toEqual({ fromRun: 1, toRun: 2 });
    expect(cells).toEqual([
      { from: '(new)', to: 'Potential Loyalist', customers: 1, revenue: 30 },
      { from: 'Champions', to: 'Loyal', customers: 1, revenue: 150.5 },
      { from: 'Hibernating', to: 'Lost', customers: 1, revenue: 20 },
      { from: 'Lost', to: 'Lost', customers: 1, revenue: 10 },
      { from: 'Need Attention', to: 'Champions', customers: 1, revenue: 90 },
      { from: 'Promising', to: '(gone)', customers: 1, revenue: 45 },
    ]);
  });

  it('the next run gets previous_segment from the newest run, and keeps segment_changed_at while the segment stays', async () => {
    const h = history.qualifier;
    const id = async (label: string) => (await engine.one<{ label_id: number }>(`SELECT label_id FROM ${h}.labels WHERE label = ?`, [label]))!.label_id;
    // Label columns as ids on both sides (label_values maps an id to itself), as the run's label ENUM codes would be.
    await runStatements(engine, engine.dialect.createTempTable('next_run', `customer_id ${engine.dialect.sql.text}, rfm_segment INTEGER`));
    for (const [customer, segment] of [['A', 'Loyal'], ['B', 'Champions'], ['G', 'Lost']] as const) {
      await engine.run(`INSERT INTO next_run VALUES (?, ?)`, [customer, await id(segment)]);
    }
    await runStatements(engine, ['DROP VIEW IF EXISTS scored', 'CREATE TEMP VIEW scored AS SELECT customer_id, rfm_segment FROM next_run']);
    await runStatements(engine, engine.dialect.createTempTableAs('label_values', `SELECT label_id, label_id AS label FROM ${h}.labels`));
    await addHistoryColumns(engine, history, '2024-03-31', 2);
    const rows = await engine.all<{ customer_id: string; previous_segment: number | null; segment_changed_at: string }>(
      `SELECT customer_id, previous_segment, ${engine.dialect.sql.isoDate('segment_changed_at')} AS segment_changed_at FROM final_scores ORDER BY customer_id`,
    );
    expect(rows).toEqual([
      // Loyal in run 2 too: since run 2's date.
      { customer_id: 'A', previous_segment: await id('Loyal'), segment_changed_at: '2024-02-29' },
      // Lost in run 2: changed now.
      { customer_id: 'B', previous_segment: await id('Lost'), segment_changed_at: '2024-03-31' },
      // New to the history.
      { customer_id: 'G', previous_segment: null, segment_changed_at: '2024-03-31' },
    ]);
    await runStatements(engine, ['DROP VIEW scored', 'DROP TABLE final_scores', 'DROP TABLE next_run']);
  });

  it("gathers the report's figures for the newest run", async () => {
    const data = await gatherReportData(engine, history, undefined);
    expect(data.run).toMatchObject({ id: 2, asOf: '2024-02-29', startedAt: '2024-02-29T02:03:04Z', finishedAt: '2024-02-29T02:03:16Z', inputs: ['b.csv', 'c.csv'] });
    expect(data.totals).toEqual({ customers: 5, revenue: 300.5, rowsRead: 20, rowsRejected: 1, rowsExcluded: 0 });
    expect(data.rfmHeatmap).toEqual([
      { r: 1, f: 1, customers: 2, meanRevenue: 15 },
      { r: 3, f: 4, customers: 1, meanRevenue: 150.5 },
      { r: 5, f: 1, customers: 1, meanRevenue: 30 },
      { r: 5, f: 4, customers: 1, meanRevenue: 90 },
    ]);
    expect(data.segments.map((s) => [s.segment, s.customers, s.revenue])).toEqual([
      ['Lost', 2, 30],
      ['Champions', 1, 90],
      ['Loyal', 1, 150.5],
      ['Potential Loyalist', 1, 30],
    ]);
    expect(data.segments[0]!.customerShare).toBeCloseTo(0.4, 12);
    expect(data.segments[0]!.revenueShare).toBeCloseTo(30 / 300.5, 12);
    expect(data.deciles.map((d) => [d.decile, d.customers, d.revenue])).toEqual([[1, 1, 150.5], [2, 1, 90], [3, 1, 30], [4, 1, 20], [5, 1, 10]]);
    expect(data.deciles.at(-1)!.cumulativeShare).toBeCloseTo(1, 12);
    expect(data.stages!.map((s) => [s.stage, s.customers, s.revenue])).toEqual([['new', 1, 30], ['active', 2, 240.5], ['lapsed', 1, 20], ['lost', 1, 10]]);
    expect(data.clusters!.map((c) => [c.cluster, c.label, c.customers, c.meanRevenue])).toEqual([[1, 'High value', 2, 120.25], [2, 'Low value', 3, 20]]);
    expect(data.migration!.cells).toHaveLength(6);
    // Across the runs (by hand from tests/historyRuns.ts; these summaries have no CLV).
    expect(data.history!.runs).toEqual([
      { runId: 1, asOf: '2024-01-31', model: null, customers: 5, revenue: 235.5, meanPAlive: expect.closeTo(0.62, 12), totalClv: 91.25, clvInterval: null },
      { runId: 2, asOf: '2024-02-29', model: null, customers: 5, revenue: 300.5, meanPAlive: expect.closeTo(0.62, 12), totalClv: 106.5, clvInterval: null },
    ]);
    expect(data.history!.segments.map((s) => [s.runId, s.segment, s.customers, s.share])).toEqual([
      [1, 'Champions', 1, 0.2],
      [1, 'Hibernating', 1, 0.2],
      [1, 'Lost', 1, 0.2],
      [1, 'Need Attention', 1, 0.2],
      [1, 'Promising', 1, 0.2],
      [2, 'Champions', 1, 0.2],
      [2, 'Lost', 2, 0.4],
      [2, 'Loyal', 1, 0.2],
      [2, 'Potential Loyalist', 1, 0.2],
    ]);
    expect(data.history!.stages.filter((s) => s.runId === 1).map((s) => [s.stage, s.customers])).toEqual([
      ['active', 3],
      ['lapsed', 1],
      ['new', 1],
    ]);
  });

  it("bins the report's CLV on a log scale and P(alive) in twentieths", async () => {
    const [h, d] = [history.qualifier, engine.dialect];
    // Run 2's CLV 60, 4, 30, 0.5, 12: k = ⌊4·log10(clv)⌋ = 7, 2, 5, −2, 4.
    const bins = await engine.all<{ k: number; customers: number; minClv: number; maxClv: number }>(CLV_LOG_BINS_SQL(h, d), { runId: 2 });
    expect([...bins].sort((a, b) => a.k - b.k)).toEqual([
      { k: -2, customers: 1, minClv: 0.5, maxClv: 0.5 },
      { k: 2, customers: 1, minClv: 4, maxClv: 4 },
      { k: 4, customers: 1, minClv: 12, maxClv: 12 },
      { k: 5, customers: 1, minClv: 30, maxClv: 30 },
      { k: 7, customers: 1, minClv: 60, maxClv: 60 },
    ]);
    // P(alive) 0.85, 0.3, 0.9, 0.1, 0.95.
    expect(await engine.all(P_ALIVE_BINS_SQL(h), { runId: 2 })).toEqual([
      { bin: 2, customers: 1 },
      { bin: 6, customers: 1 },
      { bin: 17, customers: 1 },
      { bin: 18, customers: 1 },
      { bin: 19, customers: 1 },
    ]);
    // These rows have no model inputs (T, frequency): the matrices' range is empty, not an error.
    expect(await engine.one(MODEL_RANGE_SQL(h, d), { runId: 2 })).toEqual({ maxT: null, maxFrequency: null });
  });

  it('export: segments, the budget, CLV order, slipping, contacts without an address and suppressions', async () => {
    const exported = async (filters: Partial<ExportFilters>) => {
      const { counts } = await buildExport(engine, history, { ...NO_FILTERS, ...filters });
      const ids = (await engine.all<{ customer_id: string }>(`SELECT customer_id FROM export_rows ORDER BY export_rank`)).map((r) => r.customer_id);
      return { ids, matched: counts.matched, written: counts.written, cutByLimit: counts.cutByLimit, noAddress: counts.noAddress, suppressed: counts.suppressed };
    };
    expect(await exported({ segments: ['Lost'] })).toEqual({ ids: ['B', 'D'], matched: 2, written: 2, cutByLimit: 0, noAddress: 0, suppressed: 0 });
    expect(await exported({ segments: ['Lost'], limit: 1 })).toEqual({ ids: ['B'], matched: 2, written: 1, cutByLimit: 1, noAddress: 0, suppressed: 0 });
    expect((await exported({ stages: ['active'], orderBy: 'recency_days' })).ids).toEqual(['C', 'A']);
    expect((await exported({ run: 1, cells: ['5??', '4??'] })).ids).toEqual(['A', 'E']);
    expect((await exported({ preset: 'slipping' })).ids).toEqual(['A']);
    expect((await exported({ clusters: ['High value'] })).ids).toEqual(['A', 'C']);

    const contacts = path.join(dir, 'contacts.csv');
    // A backslash and a tab in a value reach the engine as they are (PostgreSQL: through COPY's text format).
    await writeFile(contacts, 'customer_id,email,name\nB,b@example.com,"Bea \\ O\tNeil"\nD,dan at example,Dan\n');
    expect(await exported({ segments: ['Lost'], contacts })).toEqual({ ids: ['B'], matched: 2, written: 1, cutByLimit: 0, noAddress: 1, suppressed: 0 });
    expect(await engine.all(`SELECT customer_id, name FROM export_rows`)).toEqual([{ customer_id: 'B', name: 'Bea \\ O\tNeil' }]);
    const suppress = path.join(dir, 'suppress.csv');
    await writeFile(suppress, 'email\nB@Example.com\n');
    expect(await exported({ segments: ['Lost'], contacts, suppress })).toEqual({ ids: [], matched: 2, written: 0, cutByLimit: 0, noAddress: 1, suppressed: 1 });

    await expect(exported({ segments: ['Nobody'] })).rejects.toThrow(UsageError);
  });

  it('a run left pending by a killed process (no journal in its folder) is removed by the next command that opens the history', async () => {
    const out = path.join(dir, 'out3');
    await mkdir(out, { recursive: true });
    await recordTestRun(engine, history, 3, '2024-03-31', RUN_2, { inputs: ['d.csv'], out: 'out3', outDir: out, publish: false });
    expect((await listRuns(engine, history)).map((r) => r.run_id)).toEqual([1, 2, 3]);
    await engine.closeHistory();
    history = await attachHistoryReadOnly(engine, db);
    expect((await listRuns(engine, history)).map((r) => r.run_id)).toEqual([1, 2]);
    expect((await engine.one<{ n: number }>(`SELECT count(*)::BIGINT AS n FROM ${history.qualifier}.scores WHERE run_id = 3`))!.n).toBe(0);
    await engine.closeHistory();
    history = await attachHistory(engine, db);
  });

  it('--keep-runs: publishing with 1 kept prunes the older runs\' scores and keeps their rows', async () => {
    await markPublished(engine, history, 2, 1);
    const runs = await listRuns(engine, history);
    expect(runs.map((r) => [r.run_id, r.scores_kept])).toEqual([[1, false], [2, true]]);
    expect(await engine.all(`SELECT DISTINCT run_id FROM ${history.qualifier}.scores ORDER BY run_id`)).toEqual([{ run_id: 2 }]);
    await expect(resolveRun(engine, history, 1)).rejects.toThrow("run 1's customer scores were pruned");
    await expect(migrationBetween(engine, history, 'segment', undefined, undefined)).rejects.toThrow('needs an earlier run with scores before run 2');
  });
});

describeEachEngine(
  'run history in a PostgreSQL schema',
  import.meta.url,
  (under) => {
    it('one process records at a time: a second writer or reader waits while one writes; readers share', async () => {
      const first = under.engine() as Engine;
      const second = (await under.open()) as Engine;
      try {
        await attachHistory(first, null);
        await expect(second.openHistory({ readOnly: true, layout: HISTORY_LAYOUT })).rejects.toThrow(DatabaseInUseError);
        await expect(second.openHistory({ readOnly: false, layout: HISTORY_LAYOUT })).rejects.toThrow(DatabaseInUseError);
        await first.closeHistory();
        await first.openHistory({ readOnly: true, layout: HISTORY_LAYOUT });
        const reading = await second.openHistory({ readOnly: true, layout: HISTORY_LAYOUT });
        expect(reading.qualifier).toBe(`"${under.schema}"`);
        await second.closeHistory();
        await expect(second.openHistory({ readOnly: false, layout: HISTORY_LAYOUT })).rejects.toThrow(DatabaseInUseError);
        await first.closeHistory();
        await second.openHistory({ readOnly: false, layout: HISTORY_LAYOUT });
        await second.closeHistory();
      } finally {
        await second.close();
      }
    });

    it('a run waits for the history while another holds it (--db-wait), and without waiting says it is in use', async () => {
      const first = under.engine() as Engine;
      const second = (await under.open()) as Engine;
      try {
        await first.openHistory({ readOnly: false, layout: HISTORY_LAYOUT });
        await expect(attachHistory(second, null, { waitSeconds: 0 })).rejects.toThrow(/the database is in use by another process: another crm process holds the run history in schema/);
        // The first lets go when the second says it waits: the second then opens it.
        const warnings: string[] = [];
        const log = {
          warn: (_fields: unknown, message: string) => {
            warnings.push(message);
            void first.closeHistory();
          },
        } as unknown as Logger;
        const history = await attachHistory(second, null, { waitSeconds: 60, log });
        expect(warnings).toEqual(['the history database is in use by another process; waiting for it']);
        expect(history.readOnly).toBe(false);
        await second.closeHistory();
      } finally {
        await first.closeHistory();
        await second.close();
      }
    });

    it.runIf(POSTGRES_HAS_CITUS)('on Citus, scores are distributed by customer_id, co-located with the run tables; runs, labels, pending runs and run clusters are reference tables', async () => {
      const engine = under.engine();
      const placed = await engine.all<{ name: string; method: string; column: string | null }>(
        `SELECT c.relname AS name, p.partmethod AS method, column_to_column_name(p.logicalrelid, p.partkey) AS column
         FROM pg_dist_partition p JOIN pg_class c ON c.oid = p.logicalrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = ? ORDER BY name`,
        [under.schema],
      );
      expect(placed).toEqual([
        { name: 'labels', method: 'n', column: null },
        { name: 'pending_runs', method: 'n', column: null },
        { name: 'run_clusters', method: 'n', column: null },
        { name: 'runs', method: 'n', column: null },
        { name: 'scores', method: 'h', column: 'customer_id' },
      ]);
      // Co-located with the per-customer tables crm makes with colocate_with => 'default'.
      await engine.run(`CREATE TABLE colocation_probe (customer_id VARCHAR)`);
      await engine.run(`SELECT create_distributed_table('colocation_probe', 'customer_id', colocate_with => 'default')`);
      const groups = await engine.all<{ n: number }>(
        `SELECT count(DISTINCT colocationid)::BIGINT AS n FROM pg_dist_partition WHERE logicalrelid IN (to_regclass(?), to_regclass(?))`,
        [`"${under.schema}".scores`, `"${under.schema}".colocation_probe`],
      );
      expect(groups).toEqual([{ n: 1 }]);
    });
  },
  'postgres',
);
