import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentEffects } from '../../src/effects.js';
import { runScore } from '../../src/jobs/score.js';
import { config, tempDir, withEngine } from '../helpers.js';

/**
 * Byte-identical outputs need more than a small fixture: DuckDB aggregates a
 * table of more than one row group (122,880 rows) on several threads, and a
 * floating-point sum then depends on how the rows were split among them.
 * 300,000 customers with two purchase days each, generated in DuckDB, are
 * scored twice, the second time from the rows in another order.
 */
const CUSTOMERS = 300_000;

async function writeTransactions(file: string, order: string): Promise<void> {
  await withEngine(async (engine) => {
    await engine.run(
      `COPY (
         SELECT 'K' || lpad((i // 2)::VARCHAR, 7, '0') AS customer_id,
                DATE '2024-01-01' + ((hash(i // 2) % 700) + (i % 2) * (hash(i) % 30))::INTEGER AS order_date,
                round(((hash(i * 7) % 100000) / 997.0)::DECIMAL(18,4), 2) AS amount
         FROM range(${2 * CUSTOMERS}) t(i)
         ORDER BY ${order}
       ) TO ${engine.dialect.quoteString(file)} (FORMAT csv, HEADER)`,
    );
  });
}

describe('determinism at scale', () => {
  it('gives byte-identical customers and summary tables for the same rows in another order', { timeout: 180_000 }, async () => {
    const dir = await tempDir();
    const [inOrder, shuffled] = [path.join(dir, 'in-order.csv'), path.join(dir, 'shuffled.csv')];
    await writeTransactions(inOrder, 'i');
    await writeTransactions(shuffled, 'hash(i * 31 + 5)');
    // With a history database, as the nightly job runs, in both row orders; then with --no-db.
    const runs = [
      { input: inOrder, noDb: false },
      { input: shuffled, noDb: false },
      { input: shuffled, noDb: true },
    ];
    const outputs: Record<string, string>[] = [];
    for (const run of runs) {
      const out = await tempDir();
      await withEngine((engine) => runScore(engine, config({ inputs: [run.input], out, asOf: '2025-12-31', noDb: run.noDb, format: ['csv'] }), silentEffects));
      const files: Record<string, string> = {};
      for (const name of ['customers.csv', 'deciles.csv', 'segments.csv', 'stages.csv', 'clusters.csv']) files[name] = await readFile(path.join(out, name), 'utf8');
      outputs.push(files);
    }
    const [withDb, shuffledWithDb, withoutDb] = outputs as [Record<string, string>, Record<string, string>, Record<string, string>];
    expect(withDb['customers.csv']!.split('\n')).toHaveLength(CUSTOMERS + 2);
    for (const name of Object.keys(withDb)) expect(shuffledWithDb[name], name).toBe(withDb[name]);
    // Without a database the table lacks previous_segment and segment_changed_at (the last two columns), and is otherwise the same.
    const withoutHistoryColumns = (csv: string) => csv.split('\n').map((line) => line.split(',').slice(0, -2).join(','));
    expect(withoutHistoryColumns(withDb['customers.csv']!)).toEqual(withoutDb['customers.csv']!.split('\n'));
    for (const name of Object.keys(withDb).filter((n) => n !== 'customers.csv')) expect(withoutDb[name], name).toBe(withDb[name]);
  });
});
