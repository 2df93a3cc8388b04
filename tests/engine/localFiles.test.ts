/**
 * The files of a run on this machine, on every engine: side files read into
 * a table of the session (PostgreSQL: by its local DuckDB, then copied in),
 * and output files written by the DuckDB writers, so that PostgreSQL's are
 * byte for byte DuckDB's for the same rows and column types.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { DuckDbEngine } from '../../src/engine/duckdb/DuckDbEngine.js';
import type { Engine, TableFormat } from '../../src/engine/Engine.js';
import { describeEachEngine } from '../engines.js';
import { tempDir } from '../helpers.js';

describeEachEngine('side files and output files on this machine', import.meta.url, (under) => {
  it('loadSideFile reads a CSV with every value as text (ids keep their zeros); textColumns names its columns', async () => {
    const engine = under.engine() as Engine;
    const file = path.join(await tempDir('crm-side-'), 'contacts.csv');
    await writeFile(file, 'customer_id,email\n00004,a@example.com\n00018,\n');
    expect(await engine.loadSideFile('contacts', file)).toEqual(['customer_id', 'email']);
    expect(await engine.textColumns('contacts')).toEqual(['customer_id', 'email']);
    expect(await engine.all(`SELECT customer_id, email FROM contacts ORDER BY customer_id`)).toEqual([
      { customer_id: '00004', email: 'a@example.com' },
      { customer_id: '00018', email: null },
    ]);
  });

  it('writeQuery writes CSV with a header, NULL as an empty field and empty text as ""', async () => {
    const engine = under.engine() as Engine;
    const file = path.join(await tempDir('crm-out-'), 'rows.csv');
    await engine.writeQuery(ROWS, 'csv', file);
    expect(await readFile(file, 'utf8')).toBe('customer_id,first_order,revenue,orders\n"",2024-03-01,12.5,7\nc2,,0.1,\nc3,1999-12-31,,9007199254740993\n');
  });
});

/** Rows of every column type crm writes, in the SQL both engines run. */
const ROWS = `SELECT * FROM (VALUES
    ('', CAST('2024-03-01' AS DATE), CAST(12.5 AS DOUBLE PRECISION), CAST(7 AS BIGINT)),
    ('c2', CAST(NULL AS DATE), CAST(0.1 AS DOUBLE PRECISION), CAST(NULL AS BIGINT)),
    ('c3', CAST('1999-12-31' AS DATE), CAST(NULL AS DOUBLE PRECISION), CAST(9007199254740993 AS BIGINT))
  ) AS t(customer_id, first_order, revenue, orders) ORDER BY customer_id`;

describeEachEngine(
  'output files on PostgreSQL',
  import.meta.url,
  (under) => {
    it.each(['parquet', 'csv', 'json', 'arrow'] as TableFormat[])('%s: the same bytes as the DuckDB engine writes for the same rows', async (format) => {
      const dir = await tempDir('crm-out-');
      await (under.engine() as Engine).writeQuery(ROWS, format, path.join(dir, 'postgres'));
      const duckdb = await DuckDbEngine.create({ threads: 1 });
      try {
        await duckdb.writeQuery(ROWS, format, path.join(dir, 'duckdb'));
      } finally {
        await duckdb.close();
      }
      expect((await readFile(path.join(dir, 'postgres'))).equals(await readFile(path.join(dir, 'duckdb')))).toBe(true);
    });

    it('parquet: a column typed for the file (a score, TINYINT on DuckDB, SMALLINT on PostgreSQL) is written in that type', async () => {
      const dir = await tempDir('crm-out-');
      const scores = (type: string) => `SELECT * FROM (VALUES ('c1', CAST(5 AS ${type})), ('c2', CAST(NULL AS ${type}))) AS t(customer_id, r_score) ORDER BY customer_id`;
      await (under.engine() as Engine).writeQuery(scores('SMALLINT'), 'parquet', path.join(dir, 'postgres'), { types: { r_score: 'TINYINT' } });
      const duckdb = await DuckDbEngine.create({ threads: 1 });
      try {
        await duckdb.writeQuery(scores('TINYINT'), 'parquet', path.join(dir, 'duckdb'));
      } finally {
        await duckdb.close();
      }
      expect((await readFile(path.join(dir, 'postgres'))).equals(await readFile(path.join(dir, 'duckdb')))).toBe(true);
    });
  },
  'postgres',
);
