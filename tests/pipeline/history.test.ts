/**
 * A run is recorded in the history database (its row in runs and its
 * customers' scores) in one transaction, after its outputs are written: a run
 * that fails on the way leaves the database as it was.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentEffects, type Effects } from '../../src/pipeline/effects.js';
import { runScore } from '../../src/pipeline/score.js';
import { CDNOW_CSV, config, tempDir, withEngine } from '../helpers.js';

const CUSTOMERS_1997_09_30 = 2357;

describe('run history', () => {
  it('a run that fails after writing its outputs leaves the database as it was', async () => {
    const dir = await tempDir();
    const db = path.join(dir, 'crm.duckdb');
    const score = (asOf: string, out: string, effects: Effects = silentEffects) =>
      withEngine((engine) => runScore(engine, config({ inputs: [CDNOW_CSV], out: path.join(dir, out), asOf, db, format: ['csv'], kmeans: { enabled: false } }), effects));

    const first = await score('1997-09-30', 'first');
    expect(first.run.id).toBe(1);
    // Fails once the outputs are written, before the run is recorded.
    const failing: Effects = { ...silentEffects, stage: (name) => () => { if (name === 'write') throw new Error('disk full'); } };
    await expect(score('1998-06-30', 'failed', failing)).rejects.toThrow('disk full');

    const counts = () =>
      withEngine(async (engine) => {
        await engine.run(`ATTACH ${engine.dialect.quoteString(db)} AS h (READ_ONLY)`);
        return engine.all<{ run_id: number; scored: number }>(`SELECT run_id, count(*)::INTEGER AS scored FROM h.customer_scores GROUP BY run_id ORDER BY run_id`);
      });
    expect(await counts()).toEqual([{ run_id: 1, scored: CUSTOMERS_1997_09_30 }]);

    // The next run takes the next id and still finds the first run's segments.
    const next = await score('1998-06-30', 'next');
    expect(next.run.id).toBe(2);
    const scored = await counts();
    expect(scored.map((r) => r.run_id)).toEqual([1, 2]);
    const carried = await withEngine(async (engine) => {
      await engine.run(`ATTACH ${engine.dialect.quoteString(db)} AS h (READ_ONLY)`);
      return (await engine.one<{ n: number }>(
        `SELECT count(*)::INTEGER AS n FROM h.customer_scores a JOIN h.customer_scores b USING (customer_id)
         WHERE a.run_id = 1 AND b.run_id = 2 AND b.previous_segment = a.rfm_segment`,
      ))!.n;
    });
    expect(carried).toBe(CUSTOMERS_1997_09_30);
  });
});
