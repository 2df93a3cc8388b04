import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/Engine.js';
import { silentEffects } from '../../src/effects.js';
import { runScore } from '../../src/jobs/score.js';
import { config, fixture, tempDir, withEngine } from '../helpers.js';

/** The relations a run builds on the way to final_scores (per day, per occasion, per customer), by name. */
const dayRelations = async (engine: Engine) =>
  (
    await engine.all<{ name: string }>(
      `SELECT table_name AS name FROM duckdb_tables() WHERE table_name LIKE 'days\\_%' ESCAPE '\\' OR table_name IN ('occasions', 'customer_features')
       UNION ALL
       SELECT view_name FROM duckdb_views() WHERE NOT internal AND view_name IN ('customer_days', 'occasions', 'scored')
       ORDER BY name`,
    )
  ).map((r) => r.name);

describe('the nightly job', () => {
  // The per-day rows are the biggest tables of a run and nothing after the features reads them
  // (kept, they held a fifth of the peak memory on 10M rows); nothing after final_scores reads
  // the customer table (a sixth of what was left).
  it('frees the per-day rows once the features are computed, and the customer table once final_scores is written (occasions a view: one file)', async () => {
    const out = await tempDir();
    await withEngine(async (engine) => {
      const summary = await runScore(engine, config({ inputs: [fixture('tiny', 'transactions.csv')], out, asOf: '2024-03-31', noDb: true }), silentEffects);
      expect(summary.customers).toBe(6);
      expect(await dayRelations(engine)).toEqual([]);
      expect((await engine.one<{ n: number }>(`SELECT count(*)::BIGINT AS n FROM final_scores`))!.n).toBe(6);
    });
  });

  it('and when they are a table (two files)', async () => {
    const out = await tempDir();
    const second = path.join(out, 'more.csv');
    await copyFile(fixture('tiny', 'transactions.csv'), second);
    await withEngine(async (engine) => {
      const summary = await runScore(engine, config({ inputs: [fixture('tiny', 'transactions.csv'), second], out, asOf: '2024-03-31', noDb: true }), silentEffects);
      expect(summary.customers).toBe(6);
      expect(await dayRelations(engine)).toEqual([]);
    });
  });
});
