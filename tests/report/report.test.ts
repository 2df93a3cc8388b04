/**
 * The report's figures (src/report/queries.ts through gatherReportData) for a run
 * of five hand-built customers, every figure worked out by hand below from
 * DESIGN §3 (tests/e2e draws the report through the CLI).
 *
 *   customer  purchase days (amount each)          recency  orders  revenue
 *   A         2024-01-30 (100)                       1        1       100
 *   B         2024-01-20, 2024-01-25 (10)            6        2        20
 *   C         2024-01-10 (50)                       21        1        50
 *   D         2023-12-01 (5)                        61        1         5
 *   E         2024-01-01, 2024-01-15, 2024-01-29 (30) 2      3        90
 *
 * as of 2024-01-31, 5 customers, revenue 265. Quantile scores,
 * 1 + ⌊5·(customers with a worse value)/5⌋: R A5 E4 B3 C2 D1; F E5 B4 A=C=D 1;
 * M A5 E4 C3 B2 D1. Segments by (R, FM = ⌊(F+M)/2 + 0.5⌋): A 53 Loyal,
 * E 45 Champions, B 33 Potential Loyalist, C 22 Need Attention, D 11 Lost.
 * Value deciles, boundaries at positions min(j, 5) in revenue order: A 1,
 * E 2, C 3, B 4, D 5. Lifecycle (population gap = median of B's 5 and E's
 * 14 days = 9.5): A new (1/9.5), B active (6/5), C at_risk (21/9.5 > 1.5),
 * D lost (61/9.5 > 6), E active (2/14).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentEffects } from '../../src/effects.js';
import { gatherReportData } from '../../src/report/reportData.js';
import { attachHistoryReadOnly } from '../../src/stages/history/runs.js';
import { runScore } from '../../src/jobs/score.js';
import { config, tempDir, withEngine } from '../helpers.js';

const ROWS = [
  ['A', '2024-01-30', 100],
  ['B', '2024-01-20', 10],
  ['B', '2024-01-25', 10],
  ['C', '2024-01-10', 50],
  ['D', '2023-12-01', 5],
  ['E', '2024-01-01', 30],
  ['E', '2024-01-15', 30],
  ['E', '2024-01-29', 30],
] as const;

describe('report figures', () => {
  it('gives the heatmap, segments, deciles, stages and totals worked out by hand', async () => {
    const dir = await tempDir();
    const input = path.join(dir, 'tx.csv');
    const db = path.join(dir, 'crm.duckdb');
    await writeFile(input, `customer_id,order_date,amount\n${ROWS.map((r) => r.join(',')).join('\n')}\n`);
    await withEngine((engine) =>
      runScore(engine, config({ inputs: [input], out: path.join(dir, 'out'), asOf: '2024-01-31', db, format: ['csv'], kmeans: { enabled: false }, clv: { enabled: false } }), silentEffects),
    );
    const data = await withEngine(async (engine) => {
      const history = await attachHistoryReadOnly(engine, db);
      return gatherReportData(engine, history, undefined);
    });

    expect(data.run.id).toBe(1);
    expect(data.run.asOf).toBe('2024-01-31');
    expect(data.title).toBe('crm report — run 1 (as of 2024-01-31)');
    expect(data.totals).toEqual({ customers: 5, revenue: 265, rowsRead: 8, rowsRejected: 0, rowsExcluded: 0 });

    expect(data.rfmHeatmap).toEqual([
      { r: 1, f: 1, customers: 1, meanRevenue: 5 },
      { r: 2, f: 1, customers: 1, meanRevenue: 50 },
      { r: 3, f: 4, customers: 1, meanRevenue: 20 },
      { r: 4, f: 5, customers: 1, meanRevenue: 90 },
      { r: 5, f: 1, customers: 1, meanRevenue: 100 },
    ]);

    // One customer each: ordered by name after the (equal) sizes.
    const segment = (name: string, revenue: number) => ({ segment: name, customers: 1, revenue, customerShare: 0.2, revenueShare: revenue / 265 });
    expect(data.segments).toEqual([
      segment('Champions', 90),
      segment('Lost', 5),
      segment('Loyal', 100),
      segment('Need Attention', 50),
      segment('Potential Loyalist', 20),
    ]);

    const decile = (d: number, revenue: number, cumulative: number) => ({ decile: d, customers: 1, revenue, share: revenue / 265, cumulativeShare: cumulative / 265 });
    expect(data.deciles).toEqual([decile(1, 100, 100), decile(2, 90, 190), decile(3, 50, 240), decile(4, 20, 260), decile(5, 5, 265)]);

    expect(data.stages).toEqual([
      { stage: 'new', customers: 1, revenue: 100, share: 0.2 },
      { stage: 'active', customers: 2, revenue: 110, share: 0.4 },
      { stage: 'at_risk', customers: 1, revenue: 50, share: 0.2 },
      { stage: 'lost', customers: 1, revenue: 5, share: 0.2 },
    ]);
    expect(data.clusters).toBeNull();
    expect(data.clvDistribution).toBeNull();
    expect(data.fit).toBeNull();
    // No CLV in this run: no model diagnostics; one run: its own row in the history.
    expect([data.pAliveHistogram, data.periodTransactions, data.modelMatrix, data.holdout]).toEqual([null, null, null, null]);
    expect(data.history!.runs).toEqual([{ runId: 1, asOf: '2024-01-31', model: null, customers: 5, revenue: 265, meanPAlive: null, totalClv: null, clvInterval: null }]);
    expect(data.history!.stages.map((s) => [s.stage, s.customers])).toEqual([
      ['active', 2],
      ['at_risk', 1],
      ['lost', 1],
      ['new', 1],
    ]);
  });
});
