import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CDNOW_CSV, readJson, runCli, tempDir, withEngine } from '../helpers.js';

describe('input and output formats', () => {
  it('Parquet, NDJSON, TSV and a glob over split CSVs all give the same customers table as the CSV', async () => {
    const dir = await tempDir();
    const parts = path.join(dir, 'parts');
    await mkdir(parts);
    await withEngine(async (engine) => {
      const src = `read_csv(${engine.dialect.quoteString(CDNOW_CSV)}, types = {'customer_id': 'VARCHAR', 'order_date': 'DATE', 'amount': 'DECIMAL(10,2)'})`;
      const q = (p: string) => engine.dialect.quoteString(p);
      await engine.run(`COPY (SELECT * FROM ${src}) TO ${q(path.join(dir, 'tx.parquet'))} (FORMAT parquet)`);
      await engine.run(`COPY (SELECT customer_id, strftime(order_date, '%Y-%m-%d') AS order_date, amount FROM ${src}) TO ${q(path.join(dir, 'tx.ndjson'))} (FORMAT json)`);
      await engine.run(`COPY (SELECT * FROM ${src}) TO ${q(path.join(dir, 'tx.tsv'))} (FORMAT csv, DELIMITER '\t', HEADER)`);
      await engine.run(`COPY (SELECT * FROM ${src} WHERE order_date < DATE '1997-03-01') TO ${q(path.join(parts, 'a.csv'))} (FORMAT csv, HEADER)`);
      await engine.run(`COPY (SELECT * FROM ${src} WHERE order_date >= DATE '1997-03-01') TO ${q(path.join(parts, 'b.csv'))} (FORMAT csv, HEADER)`);
    });
    const common = ['--as-of', '1997-09-30', '--format', 'csv', '--no-db', '--no-kmeans'];
    const inputs: Record<string, string[]> = {
      csv: [CDNOW_CSV],
      parquet: [path.join(dir, 'tx.parquet')],
      ndjson: [path.join(dir, 'tx.ndjson')],
      tsv: [path.join(dir, 'tx.tsv')],
      glob: [path.join(parts, '*.csv')],
    };
    const results = await Promise.all(Object.entries(inputs).map(([name, files]) => runCli(['score', ...files, '--out', path.join(dir, name), ...common])));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const reference = await readFile(path.join(dir, 'csv', 'customers.csv'), 'utf8');
    for (const name of Object.keys(inputs)) {
      expect(await readFile(path.join(dir, name, 'customers.csv'), 'utf8'), name).toBe(reference);
      expect((await readJson(path.join(dir, name, 'summary.json'))).rows.read, name).toBe(6919);
    }
    expect((await readJson(path.join(dir, 'glob', 'summary.json'))).run.inputs).toEqual([path.join(parts, 'a.csv'), path.join(parts, 'b.csv')]);
  });

  it('a Parquet file with values to reject: the rows are rejected with their row numbers, ids trimmed', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'dirty.parquet');
    await withEngine((engine) =>
      engine.run(
        `COPY (SELECT * FROM (VALUES ('A', DATE '2024-01-01', 10.0), ('B', NULL, 5.0), ('C', DATE '2024-01-02', NULL), (' D ', DATE '2024-01-03', 7.5)) t(customer_id, order_date, amount))
         TO ${engine.dialect.quoteString(file)} (FORMAT parquet)`,
      ),
    );
    const out = path.join(dir, 'out');
    const result = await runCli(['score', file, '--out', out, '--no-db', '--no-clv', '--no-kmeans', '--format', 'csv']);
    expect(result.code, result.stderr).toBe(0);
    const rejects = (await readFile(path.join(out, 'rejects.csv'), 'utf8')).trim().split('\n').slice(1).map((l) => l.split(',').slice(1, 3).join(','));
    expect(rejects).toEqual(['2,missing date', '3,missing amount']);
    const ids = (await readFile(path.join(out, 'customers.csv'), 'utf8')).trim().split('\n').slice(1).map((l) => l.split(',')[0]);
    expect(ids).toEqual(['A', 'D']);
  });

  it('writes the customers table as Parquet, CSV, NDJSON and Arrow with the same rows', async () => {
    const out = await tempDir();
    const result = await runCli(['score', CDNOW_CSV, '--as-of', '1997-09-30', '--out', out, '-f', 'parquet', '-f', 'csv', '-f', 'json', '-f', 'arrow', '--no-db']);
    expect(result.code, result.stderr).toBe(0);
    const { tableFromIPC } = await import('apache-arrow');
    const arrow = tableFromIPC(await readFile(path.join(out, 'customers.arrow')));
    expect(arrow.numRows).toBe(2357);
    expect(arrow.getChild('customer_id')!.get(0)).toBe('00004');
    const json = (await readFile(path.join(out, 'customers.json'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(json).toHaveLength(2357);
    expect(json[0].customer_id).toBe('00004');
    await withEngine(async (engine) => {
      const q = (f: string) => engine.dialect.quoteString(path.join(out, f));
      const same = await engine.one<{ n: number }>(
        `SELECT count(*)::INTEGER AS n FROM (SELECT customer_id, rfm_cell, round(clv, 6) FROM read_parquet(${q('customers.parquet')})
         EXCEPT SELECT customer_id, rfm_cell, round(clv, 6) FROM read_csv(${q('customers.csv')}, types = {'customer_id': 'VARCHAR', 'rfm_cell': 'VARCHAR'}))`,
      );
      expect(same!.n).toBe(0);
    });
    expect(Number(arrow.getChild('revenue')!.get(0))).toBeCloseTo(json[0].revenue, 6);
  });

  it('maps columns by other names and reads order ids as purchase occasions', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'online_retail.csv');
    await writeFile(
      file,
      ['InvoiceNo,StockCode,Quantity,InvoiceDate,TotalPrice,CustomerID', '536365,85123A,6,2010-12-01 08:26:00,15.30,17850', '536366,71053,6,2010-12-01 08:28:00,20.34,17850', '536367,84406B,8,2010-12-01 08:34:00,22.00,13047', '536367,84029G,6,2010-12-01 08:34:00,20.34,13047', ''].join('\n'),
    );
    const out = path.join(dir, 'out');
    const result = await runCli(['score', file, '--out', out, '--no-db', '--no-clv', '--no-kmeans', '--format', 'csv']);
    expect(result.code, result.stderr).toBe(0);
    const rows = (await readFile(path.join(out, 'customers.csv'), 'utf8')).trim().split('\n');
    // 17850: two invoices the same day are two orders; 13047: one invoice of two lines is one order.
    expect(rows[1]).toMatch(/^13047,2010-12-01,2010-12-01,1,42\.34,/);
    expect(rows[2]).toMatch(/^17850,2010-12-01,2010-12-01,2,35\.64,/);
  });
});
