import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { silentEffects } from '../../src/pipeline/effects.js';
import { runScore } from '../../src/pipeline/score.js';
import { config, fixture, parseCsv, tempDir, withEngine } from '../helpers.js';

/** fixtures/bad/: each file with what must happen to it. */
const CORPUS: { file: string; options?: Record<string, unknown>; error?: RegExp; read?: number; rejected?: { line: number; reason: RegExp }[] }[] = [
  { file: 'wrong_delimiter.csv', read: 3, rejected: [] },
  { file: 'wrong_delimiter.csv', options: { delimiter: ',' }, error: /missing customer column .*columns: customer_id;order_date;amount/ },
  { file: 'missing_column.csv', error: /missing amount column/ },
  {
    file: 'bad_dates.csv',
    read: 6,
    rejected: [
      { line: 3, reason: /^unparseable date$/ },
      { line: 4, reason: /^unparseable date$/ },
      { line: 5, reason: /^missing date$/ },
      { line: 6, reason: /^unparseable date$/ },
    ],
  },
  {
    file: 'non_numeric_amounts.csv',
    read: 6,
    rejected: [
      { line: 3, reason: /^non-numeric amount$/ },
      { line: 4, reason: /^missing amount$/ },
      { line: 5, reason: /^non-numeric amount$/ },
      { line: 6, reason: /^non-numeric amount$/ },
    ],
  },
  { file: 'empty.csv', error: /empty\.csv: the file is empty/ },
  { file: 'header_only.csv', error: /header_only\.csv: no transaction rows/ },
  { file: 'utf8_bom.csv', read: 2, rejected: [] },
  { file: 'crlf.csv', read: 3, rejected: [] },
  { file: 'quoted_delimiters.csv', read: 3, rejected: [{ line: 3, reason: /^non-numeric amount$/ }] },
  { file: 'long_ids.csv', read: 3, rejected: [] },
  {
    file: 'mixed_date_formats.csv',
    read: 6,
    rejected: [
      { line: 6, reason: /^unparseable date$/ },
      { line: 7, reason: /^unparseable date$/ },
    ],
  },
  {
    file: 'missing_ids_and_fields.csv',
    read: 6,
    rejected: [
      { line: 3, reason: /^missing customer id$/ },
      { line: 4, reason: /^too many columns/ },
      { line: 5, reason: /^missing customer id$/ },
      { line: 6, reason: /^missing columns/ },
    ],
  },
];

describe('bad input corpus (fixtures/bad)', () => {
  for (const c of CORPUS) {
    it(`${c.file}${c.options ? ` with ${JSON.stringify(c.options)}` : ''}: ${c.error ? 'fails clearly' : `${c.rejected!.length} rejected`}`, async () => {
      const out = await tempDir();
      const input = fixture('bad', c.file);
      const cfg = config({ inputs: [input], out, noDb: true, format: ['csv'], clv: { enabled: false }, kmeans: { enabled: false }, ...c.options });
      await withEngine(async (engine) => {
        if (c.error) {
          const error = await runScore(engine, cfg, silentEffects).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(InputError);
          expect((error as Error).message).toMatch(c.error);
          expect((error as Error).message).not.toContain('\n');
          return;
        }
        const summary = await runScore(engine, cfg, silentEffects);
        const rejects = parseCsv(await readFile(path.join(out, 'rejects.csv'), 'utf8'));
        expect(summary.rows.read).toBe(c.read);
        expect(summary.rows.read).toBe(summary.rows.accepted + summary.rows.rejected);
        expect(rejects).toHaveLength(summary.rows.rejected);
        expect(rejects.map((r) => Number(r.line))).toEqual(c.rejected!.map((r) => r.line));
        rejects.forEach((r, i) => {
          expect(r.reason).toMatch(c.rejected![i]!.reason);
          expect(r.source).toBe(input);
        });
      });
    });
  }

  it('keeps long ids and quoted delimiters inside ids intact', async () => {
    const out = await tempDir();
    await withEngine(async (engine) => {
      await runScore(engine, config({ inputs: [fixture('bad', 'long_ids.csv'), fixture('bad', 'quoted_delimiters.csv')], out, noDb: true, format: ['csv'], clv: { enabled: false }, kmeans: { enabled: false } }), silentEffects);
      const ids = (await engine.all<{ customer_id: string }>(`SELECT customer_id FROM final_scores`)).map((r) => r.customer_id);
      expect(ids).toContain(`${'X'.repeat(300)}1`);
      expect(ids).toContain(`${'0'.repeat(250)}7`);
      expect(ids).toContain('Smith, J');
    });
  });

  it('reads the BOM file header as customer_id, not as a BOM-prefixed name', async () => {
    const out = await tempDir();
    await withEngine(async (engine) => {
      const summary = await runScore(engine, config({ inputs: [fixture('bad', 'utf8_bom.csv')], out, noDb: true, format: ['csv'], clv: { enabled: false }, kmeans: { enabled: false } }), silentEffects);
      expect(summary.customers).toBe(2);
    });
  });

  it('a file whose every row is rejected fails with the reasons (no rejects.csv is written for a failed run)', async () => {
    const out = await tempDir();
    const { writeFile } = await import('node:fs/promises');
    const file = path.join(out, 'all-bad.csv');
    await writeFile(file, 'customer_id,order_date,amount\nA,bad,1\nB,2024-01-01,x\nC,also bad,2\n');
    await withEngine(async (engine) => {
      const cfg = config({ inputs: [file], out: path.join(out, 'o'), noDb: true, clv: { enabled: false }, kmeans: { enabled: false } });
      await expect(runScore(engine, cfg, silentEffects)).rejects.toThrow(/^all 3 rows were rejected: 2 unparseable date, 1 non-numeric amount$/);
    });
  });

  it('--max-reject-rate fails the run and names the reasons', async () => {
    const out = await tempDir();
    await withEngine(async (engine) => {
      const cfg = config({ inputs: [fixture('bad', 'bad_dates.csv')], out, noDb: true, maxRejectRate: 0.5, clv: { enabled: false }, kmeans: { enabled: false } });
      await expect(runScore(engine, cfg, silentEffects)).rejects.toThrow(/4 of 6 rows rejected \(66\.67%\), above --max-reject-rate 0\.5: 3 unparseable date, 1 missing date/);
    });
  });
});
