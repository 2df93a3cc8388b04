/**
 * A run is recorded in the history database (its row in runs and its
 * customers' scores) in one transaction, after its outputs are written: a run
 * that fails on the way leaves the database as it was.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../../src/engine/Engine.js';
import { silentEffects, type Effects } from '../../../src/effects.js';
import { runScore } from '../../../src/jobs/score.js';
import { designSegment } from '../../designSegments.js';
import { CDNOW_CSV, config, tempDir, withEngine } from '../../helpers.js';

const CUSTOMERS_1997_09_30 = 2357;

/**
 * DESIGN §3's quantile R/F/M scores of every customer, computed here from the
 * CDNOW rows on or before `asOf` (no refunds in the sample: every purchase
 * day is an order): score = 1 + ⌊5·(customers with a worse value)/n⌋.
 */
async function cdnowQuantileScores(asOf: string): Promise<Map<string, [r: number, f: number, m: number]>> {
  const days = new Map<string, Set<string>>();
  const cents = new Map<string, number>();
  for (const line of (await readFile(CDNOW_CSV, 'utf8')).trim().split('\n').slice(1)) {
    const [id, date, amount] = line.split(',') as [string, string, string];
    if (date > asOf) continue;
    if (Number(amount) < 0) throw new Error('a refund: these scores assume none');
    days.set(id, (days.get(id) ?? new Set()).add(date));
    cents.set(id, (cents.get(id) ?? 0) + Math.round(Number(amount) * 100));
  }
  const ids = [...days.keys()];
  const dayNumber = (date: string) => Date.parse(`${date}T00:00:00Z`) / 86_400_000;
  const recency = ids.map((id) => dayNumber(asOf) - Math.max(...[...days.get(id)!].map(dayNumber)));
  const orders = ids.map((id) => days.get(id)!.size);
  const revenue = ids.map((id) => cents.get(id)!);
  const score = (values: number[], worse: (a: number, b: number) => boolean) =>
    values.map((v) => 1 + Math.floor((5 * values.filter((w) => worse(w, v)).length) / values.length));
  const [r, f, m] = [score(recency, (a, b) => a > b), score(orders, (a, b) => a < b), score(revenue, (a, b) => a < b)];
  return new Map(ids.map((id, i) => [id, [r[i]!, f[i]!, m[i]!]]));
}

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

  it('stores labels as ids: a renamed segment gets a new label, and every run reads back as written', async () => {
    const dir = await tempDir();
    const db = path.join(dir, 'crm.duckdb');
    const map = path.join(dir, 'map.yaml');
    // Names with a quote and non-ASCII letters, bound as values like every label.
    await writeFile(map, `"Top 'A' — Spitze": ["5??", "4??"]\nRest: ["[123]??"]\n`);
    const score = (out: string, segmentMap?: string) =>
      withEngine((engine) =>
        runScore(engine, config({ inputs: [CDNOW_CSV], out: path.join(dir, out), asOf: '1997-09-30', db, format: ['csv'], rfm: { segmentMap } }), silentEffects),
      );
    await score('first');
    await score('second', map);
    const history = await withEngine(async (engine) => {
      await engine.run(`ATTACH ${engine.dialect.quoteString(db)} AS h (READ_ONLY)`);
      return {
        segments: await engine.all<{ run_id: number; rfm_segment: string; previous_segment: string | null }>(
          `SELECT DISTINCT run_id::INTEGER AS run_id, rfm_segment, previous_segment FROM h.customer_scores WHERE customer_id = '00004' ORDER BY run_id`,
        ),
        dense: (await engine.one<{ ok: boolean }>(`SELECT count(*) = max(label_id) + 1 AND count(DISTINCT label) = count(*) AS ok FROM h.labels`))!.ok,
        renamed: (await engine.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM h.customer_scores WHERE run_id = 2 AND rfm_segment = 'Top ''A'' — Spitze'`))!.n,
      };
    });
    // 00004 (3 orders, 74.02, last on 1997-08-02: 59 days) scores 544, a Champion by DESIGN's map;
    // R 5 puts it in the renamed top segment (R 4 or 5) of the second run.
    const scores = await cdnowQuantileScores('1997-09-30');
    expect(scores.get('00004')).toEqual([5, 4, 4]);
    expect(designSegment(...scores.get('00004')!)).toBe('Champions');
    expect(history.segments).toEqual([
      { run_id: 1, rfm_segment: 'Champions', previous_segment: null },
      { run_id: 2, rfm_segment: "Top 'A' — Spitze", previous_segment: 'Champions' },
    ]);
    expect(history.dense).toBe(true);
    expect(history.renamed).toBe([...scores.values()].filter(([r]) => r >= 4).length);
  });

  it('moves a database of the old layout (labels as text in a customer_scores table) to ids, losing nothing', async () => {
    const dir = await tempDir();
    const db = path.join(dir, 'crm.duckdb');
    const score = (out: string, asOf: string) =>
      withEngine((engine) => runScore(engine, config({ inputs: [CDNOW_CSV], out: path.join(dir, out), asOf, db, format: ['csv'] }), silentEffects));
    const open = <T>(work: (engine: Engine) => Promise<T>) =>
      withEngine(async (engine) => {
        await engine.run(`ATTACH ${engine.dialect.quoteString(db)} AS h`);
        return work(engine);
      });
    const rows = (engine: Engine, runId: number) =>
      engine.all(`SELECT * EXCLUDE (run_id) FROM h.customer_scores WHERE run_id = ${runId} ORDER BY customer_id`);
    await score('first', '1997-09-30');
    // The layout databases had before labels were ids: the same columns, labels as text, in a table.
    const before = await open(async (engine) => {
      const written = await rows(engine, 1);
      await engine.run(`CREATE TABLE h.old_scores AS SELECT * FROM h.customer_scores`);
      await engine.run(`DROP VIEW h.customer_scores`);
      await engine.run(`DROP TABLE h.scores`);
      await engine.run(`DROP TABLE h.labels`);
      await engine.run(`ALTER TABLE h.old_scores RENAME TO customer_scores`);
      return written;
    });
    expect(before).toHaveLength(CUSTOMERS_1997_09_30);

    const next = await score('second', '1998-06-30');
    expect(next.run.id).toBe(2);
    const after = await open(async (engine) => ({
      first: await rows(engine, 1),
      kind: (await engine.one<{ kind: string }>(`SELECT table_type AS kind FROM information_schema.tables WHERE table_catalog = 'h' AND table_name = 'customer_scores'`))!.kind,
      carried: (await engine.one<{ n: number }>(
        `SELECT count(*)::INTEGER AS n FROM h.customer_scores a JOIN h.customer_scores b USING (customer_id)
         WHERE a.run_id = 1 AND b.run_id = 2 AND b.previous_segment = a.rfm_segment`,
      ))!.n,
    }));
    expect(after.kind).toBe('VIEW');
    expect(after.first).toEqual(before);
    expect(after.carried).toBe(CUSTOMERS_1997_09_30);
  });
});
