/**
 * The scored table's columns as other tools see them (DESIGN §2): their names
 * and order in customers.parquet and customers.csv, their types, which stage
 * brings each, and how the run history keeps them (the labels as ids into
 * `labels`, read back as text by customer_scores; clv_low/clv_high in the
 * output files only). The lists below are written out from DESIGN §2, not
 * taken from src/stages/scored/queries.ts.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../../src/engine/Engine.js';
import { silentEffects } from '../../../src/effects.js';
import { runScore } from '../../../src/jobs/score.js';
import { CDNOW_CSV, config, parseCsv, tempDir, withEngine } from '../../helpers.js';

/** DESIGN §2's columns in their order, with the type a Parquet reader gets. */
const CONTRACT: readonly (readonly [string, string])[] = [
  ['customer_id', 'VARCHAR'],
  ['first_purchase', 'DATE'],
  ['last_purchase', 'DATE'],
  ['orders', 'BIGINT'],
  ['revenue', 'DOUBLE'],
  ['avg_order_value', 'DOUBLE'],
  ['recency_days', 'BIGINT'],
  ['tenure_days', 'BIGINT'],
  ['r_score', 'TINYINT'],
  ['f_score', 'TINYINT'],
  ['m_score', 'TINYINT'],
  ['rfm_cell', 'VARCHAR'],
  ['rfm_segment', 'VARCHAR'],
  ['value_decile', 'TINYINT'],
  ['frequency', 'BIGINT'],
  ['recency', 'DOUBLE'],
  ['T', 'DOUBLE'],
  ['monetary_value', 'DOUBLE'],
  ['p_alive', 'DOUBLE'],
  ['expected_purchases', 'DOUBLE'],
  ['expected_avg_value', 'DOUBLE'],
  ['clv', 'DOUBLE'],
  ['clv_low', 'DOUBLE'],
  ['clv_high', 'DOUBLE'],
  ['lifecycle_stage', 'VARCHAR'],
  ['cluster', 'INTEGER'],
  ['cluster_label', 'VARCHAR'],
];
const CLV = ['frequency', 'recency', 'T', 'monetary_value', 'p_alive', 'expected_purchases', 'expected_avg_value', 'clv', 'clv_low', 'clv_high'];
const LABELS = ['rfm_cell', 'rfm_segment', 'lifecycle_stage', 'cluster_label', 'previous_segment'];
/** The history stage's columns, after the contract's, in a run that keeps a history (README "Run history"). */
const HISTORY_STAGE: readonly (readonly [string, string])[] = [
  ['previous_segment', 'VARCHAR'],
  ['segment_changed_at', 'DATE'],
];
const WITH_HISTORY = [...CONTRACT, ...HISTORY_STAGE];

const describeColumns = async (engine: Engine, relation: string) =>
  (await engine.all<{ column_name: string; column_type: string }>(`DESCRIBE ${relation}`)).map((c) => [c.column_name, c.column_type] as const);

const parquetOf = (engine: Engine, file: string) => `SELECT * FROM read_parquet(${engine.dialect.quoteString(file)})`;

/**
 * The two runs, made once by the first test that needs them. Not in beforeAll: a run that throws there
 * leaves the tests skipped, which Stryker counts as a surviving mutant; awaited in each test, it fails them.
 */
let made: Promise<string> | undefined;
const runs = () =>
  (made ??= (async () => {
    const dir = await tempDir('crm-scored-columns-');
    // Every stage, with the history: CDNOW as of 1997-09-30 (2,357 customers), few draws for the intervals.
    await withEngine((engine) =>
      runScore(engine, config({ inputs: [CDNOW_CSV], out: path.join(dir, 'all'), asOf: '1997-09-30', db: path.join(dir, 'crm.duckdb'), clv: { draws: 20 } }), silentEffects),
    );
    // Only features and RFM.
    await withEngine((engine) =>
      runScore(
        engine,
        config({ inputs: [CDNOW_CSV], out: path.join(dir, 'rfm'), asOf: '1997-09-30', noDb: true, clv: { enabled: false }, lifecycle: { enabled: false }, kmeans: { enabled: false } }),
        silentEffects,
      ),
    );
    // Ids a spreadsheet would read as formulas (customers.csv is excel-safe by default).
    await writeFile(path.join(dir, 'formulas.csv'), 'customer_id,order_date,amount\n=1+2,2024-03-01,10\n@me,2024-03-02,20\nC3,2024-03-03,30\n-4,2024-03-04,40\n');
    await withEngine((engine) =>
      runScore(
        engine,
        config({ inputs: [path.join(dir, 'formulas.csv')], out: path.join(dir, 'formulas'), asOf: '2024-03-31', noDb: true, format: ['csv'], clv: { enabled: false }, lifecycle: { enabled: false }, kmeans: { enabled: false } }),
        silentEffects,
      ),
    );
    return dir;
  })());

describe('the scored columns', { timeout: 300_000 }, () => {
  it("customers.parquet has DESIGN §2 columns, in its order, with their types, then the history stage's", async () => {
    const dir = await runs();
    const columns = await withEngine((engine) => describeColumns(engine, parquetOf(engine, path.join(dir, 'all', 'customers.parquet'))));
    expect(columns).toEqual(WITH_HISTORY);
  });

  it('customers.csv has the same header, and the labels as text', async () => {
    const dir = await runs();
    const [header, first] = (await readFile(path.join(dir, 'all', 'customers.csv'), 'utf8')).split('\n');
    expect(header!.split(',')).toEqual(WITH_HISTORY.map(([name]) => name));
    const cells = Object.fromEntries(header!.split(',').map((name, i) => [name, first!.split(',')[i]]));
    // R, F, M scores of 1 to 5 make a three-digit cell; the names are words, not ids.
    expect(cells.rfm_cell).toMatch(/^[1-5]{3}$/);
    expect(cells.rfm_cell).toBe(`${cells.r_score}${cells.f_score}${cells.m_score}`);
    for (const name of ['rfm_segment', 'lifecycle_stage', 'cluster_label']) expect(cells[name], name).toMatch(/[a-z]{3}/i);
  });

  it("customers.csv's text columns start with ' where a spreadsheet would see a formula; numbers and dates do not", async () => {
    const dir = await runs();
    const rows = parseCsv(await readFile(path.join(dir, 'formulas', 'customers.csv'), 'utf8'));
    // In customer_id order (bytes: '-' < '=' < '@' < 'C').
    expect(rows.map((r) => r.customer_id)).toEqual(["'-4", "'=1+2", "'@me", 'C3']);
    expect(rows.map((r) => r.revenue)).toEqual(['40.0', '10.0', '20.0', '30.0']);
    expect(rows.map((r) => r.first_purchase)).toEqual(['2024-03-04', '2024-03-01', '2024-03-02', '2024-03-03']);
  });

  it('a run of features and RFM alone has their columns only', async () => {
    const dir = await runs();
    const columns = await withEngine((engine) => describeColumns(engine, parquetOf(engine, path.join(dir, 'rfm', 'customers.parquet'))));
    expect(columns).toEqual(CONTRACT.slice(0, 14));
    const header = (await readFile(path.join(dir, 'rfm', 'customers.csv'), 'utf8')).split('\n')[0]!;
    expect(header.split(',')).toEqual(CONTRACT.slice(0, 14).map(([name]) => name));
  });

  it("the history's customer_scores reads back the scored columns but the intervals, then the history's own, with run_id", async () => {
    const dir = await runs();
    const columns = await withEngine(async (engine) => {
      await engine.run(`ATTACH ${engine.dialect.quoteString(path.join(dir, 'crm.duckdb'))} AS h (READ_ONLY)`);
      return describeColumns(engine, 'h.customer_scores');
    });
    const expected = WITH_HISTORY.filter(([name]) => name !== 'clv_low' && name !== 'clv_high');
    expect(columns.filter(([name]) => name !== 'run_id')).toEqual(expected);
    expect(columns.map(([name]) => name)).toContain('run_id');
  });

  it('the history stores each label as an id into labels, and the same text comes back', async () => {
    const dir = await runs();
    await withEngine(async (engine) => {
      await engine.run(`ATTACH ${engine.dialect.quoteString(path.join(dir, 'crm.duckdb'))} AS h (READ_ONLY)`);
      const stored = new Map(await describeColumns(engine, 'h.scores'));
      for (const name of LABELS) expect(stored.get(name), name).toMatch(/INT/);
      for (const name of CLV.filter((c) => c !== 'clv_low' && c !== 'clv_high')) expect(stored.has(name), name).toBe(true);
      expect(stored.has('clv_low')).toBe(false);
      expect(stored.has('clv_high')).toBe(false);
      // Every label of the output comes back as the same text.
      await engine.run(`CREATE TEMP TABLE written AS ${parquetOf(engine, path.join(dir, 'all', 'customers.parquet'))}`);
      const differing = await engine.one<{ n: number }>(
        `SELECT count(*)::INTEGER AS n FROM written w JOIN h.customer_scores s USING (customer_id)
         WHERE w.rfm_cell IS DISTINCT FROM s.rfm_cell OR w.rfm_segment IS DISTINCT FROM s.rfm_segment
            OR w.lifecycle_stage IS DISTINCT FROM s.lifecycle_stage OR w.cluster_label IS DISTINCT FROM s.cluster_label`,
      );
      expect(differing).toEqual({ n: 0 });
      expect(await engine.one(`SELECT count(*)::INTEGER AS n FROM h.customer_scores`)).toEqual({ n: 2357 });
    });
  });

  it("the history keeps customer_id with FSST, the string compression DuckDB is told to use for ids", async () => {
    const dir = await runs();
    await withEngine(async (engine) => {
      await engine.run(`ATTACH ${engine.dialect.quoteString(path.join(dir, 'crm.duckdb'))} AS h (READ_ONLY)`);
      const used = await engine.all<{ compression: string }>(
        `SELECT DISTINCT compression FROM pragma_storage_info('h.scores') WHERE column_name = 'customer_id' AND segment_type = 'VARCHAR'`,
      );
      expect(used.map((r) => r.compression)).toEqual(['FSST']);
    });
  });
});
