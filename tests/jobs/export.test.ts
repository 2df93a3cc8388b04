/**
 * The export's filters over the run history (src/jobs/exportQueries.ts through
 * buildExport), on two runs of five hand-built customers with CLV off; every
 * score worked out by hand from DESIGN §3's quantile rule,
 * 1 + ⌊5·(customers with a worse value)/5⌋ (tests/e2e runs the CLI).
 *
 *   run 1, as of 2024-01-31        run 2, as of 2024-03-31 (D bought again on 03-30)
 *   recency orders revenue  R F M   recency orders revenue  R F M   segment (R, FM)
 *   A   1     1     100     5 1 5     61     1     100     4 1 5   Potential Loyalist (43)
 *   B   6     2      20     3 4 2     66     2      20     2 3 2   Need Attention (23)
 *   C  21     1      50     2 1 3     81     1      50     1 1 3   Hibernating (12)
 *   D  61     1       5     1 1 1      1     2      10     5 3 1   Potential Loyalist (52)
 *   E   2     3      90     4 5 4     62     3      90     3 5 4   Loyal (35)
 *
 * Slipping in run 2 (R or F fell, and M ≥ 4, CLV being NULL): A and E; B and
 * C fell too, with M 2 and 3.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Engine, RunHistory } from '../../src/engine/Engine.js';
import { silentEffects } from '../../src/effects.js';
import { buildExport, type ExportFilters } from '../../src/jobs/exportSelection.js';
import { attachHistoryReadOnly } from '../../src/stages/history/runs.js';
import { runScore } from '../../src/jobs/score.js';
import { config, tempDir, withEngine } from '../helpers.js';

const RUN_1_ROWS = 'A,2024-01-30,100\nB,2024-01-20,10\nB,2024-01-25,10\nC,2024-01-10,50\nD,2023-12-01,5\nE,2024-01-01,30\nE,2024-01-15,30\nE,2024-01-29,30\n';

async function twoRuns(): Promise<string> {
  const dir = await tempDir();
  const db = path.join(dir, 'crm.duckdb');
  const input = path.join(dir, 'tx.csv');
  const score = async (asOf: string) =>
    withEngine((engine) =>
      runScore(engine, config({ inputs: [input], out: path.join(dir, asOf), asOf, db, format: ['csv'], kmeans: { enabled: false }, clv: { enabled: false } }), silentEffects),
    );
  await writeFile(input, `customer_id,order_date,amount\n${RUN_1_ROWS}`);
  await score('2024-01-31');
  await writeFile(input, `customer_id,order_date,amount\n${RUN_1_ROWS}D,2024-03-30,5\n`);
  await score('2024-03-31');
  return db;
}

const NO_FILTERS: ExportFilters = { segments: [], cells: [], stages: [], clusters: [] };

/** The ids export_rows holds, in export order, and the number matched. */
async function exported(engine: Engine, history: RunHistory, filters: Partial<ExportFilters>): Promise<{ ids: string[]; matched: number }> {
  const { counts } = await buildExport(engine, history, { ...NO_FILTERS, ...filters });
  const rows = await engine.all<{ customer_id: string }>(`SELECT customer_id FROM export_rows ORDER BY export_rank`);
  return { ids: rows.map((r) => r.customer_id), matched: counts.matched };
}

describe('export filters over the history', () => {
  it('slipping: R or F fell since the previous run and M is 4 or 5; segments by name; each order', async () => {
    const db = await twoRuns();
    await withEngine(async (engine) => {
      const history = await attachHistoryReadOnly(engine, db);
      expect(await exported(engine, history, { preset: 'slipping' })).toEqual({ ids: ['A', 'E'], matched: 2 });
      expect(await exported(engine, history, { preset: 'slipping', orderBy: 'recency_days' })).toEqual({ ids: ['A', 'E'], matched: 2 });
      expect(await exported(engine, history, { segments: ['Potential Loyalist', 'Hibernating'] })).toEqual({ ids: ['A', 'C', 'D'], matched: 3 });
      expect(await exported(engine, history, { segments: ['Potential Loyalist', 'Hibernating'], orderBy: 'recency_days' })).toEqual({ ids: ['D', 'A', 'C'], matched: 3 });
      expect(await exported(engine, history, { run: 1, segments: ['Lost'] })).toEqual({ ids: ['D'], matched: 1 });
    });
  });
});
