/**
 * --engine, --schema and --source-table on crm score, through the real CLI:
 * what is refused before any data is read (exit 2, the flag named, no
 * password shown), and on PostgreSQL that the URL's password reaches neither
 * the log nor summary.json.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeEachEngine, POSTGRES_URL } from '../engines.js';
import { CDNOW_CSV, messages, runCli, tempDir } from '../helpers.js';

const SECRET = 's3cret-Pw';

describe('crm score --engine / --source-table: usage errors before anything is read', () => {
  it('--source-table without a PostgreSQL engine', async () => {
    const out = path.join(await tempDir(), 'out');
    const result = await runCli(['score', '--source-table', 'sales.transactions', '--no-db', '--out', out]);
    expect(result.code).toBe(2);
    expect(messages(result.stderr)).toMatch(/--source-table sales\.transactions: .*--engine postgres/);
  });

  it('input files and --source-table together', async () => {
    const out = path.join(await tempDir(), 'out');
    const result = await runCli(['score', CDNOW_CSV, '--source-table', 'sales.transactions', '--engine', 'postgres://crm@localhost:1/sales', '--no-db', '--out', out]);
    expect(result.code).toBe(2);
    expect(messages(result.stderr)).toMatch(/either input files or --source-table/);
  });

  it('an unknown engine, its password masked', async () => {
    const out = path.join(await tempDir(), 'out');
    const result = await runCli(['score', CDNOW_CSV, '--engine', `mysql://crm:${SECRET}@localhost/sales`, '--out', out]);
    expect(result.code).toBe(2);
    expect(messages(result.stderr)).toMatch(/--engine mysql:\/\/crm:\*\*\*@localhost\/sales: unknown engine/);
    expect(result.stderr).not.toContain(SECRET);
  });

  it('PostgreSQL with --db (its history is the tables of --schema, not a file), before connecting', async () => {
    const out = path.join(await tempDir(), 'out');
    // Port 1: nothing listens there, so only a check made before connecting can answer with exit 2.
    const result = await runCli(['score', CDNOW_CSV, '--engine', `postgres://crm:${SECRET}@127.0.0.1:1/sales`, '--db', path.join(out, 'h.duckdb'), '--out', out]);
    expect(result.code).toBe(2);
    expect(messages(result.stderr)).toMatch(/--db .*h\.duckdb: on PostgreSQL the run history is kept in the database, in --schema crm/);
    expect(result.stderr).not.toContain(SECRET);
  });

  it('--format none with --no-db (the scores would be kept nowhere), before reading', async () => {
    const out = path.join(await tempDir(), 'out');
    const result = await runCli(['score', CDNOW_CSV, '--format', 'none', '--no-db', '--out', out]);
    expect(result.code).toBe(2);
    expect(messages(result.stderr)).toMatch(/--format none with --no-db would keep the scores nowhere/);
  });

  it('--format none beside another format', async () => {
    const out = path.join(await tempDir(), 'out');
    const result = await runCli(['score', CDNOW_CSV, '--format', 'none', '--format', 'csv', '--out', out]);
    expect(result.code).toBe(2);
    expect(messages(result.stderr)).toMatch(/none writes no customer file: give it alone/);
  });
});

describeEachEngine(
  'crm score --engine postgres://user:password@…',
  import.meta.url,
  (under) => {
    it('scores, and the password is in neither the log nor summary.json', { timeout: 120_000 }, async () => {
      const withPassword = POSTGRES_URL.replace(/^(postgres(?:ql)?:\/\/[^:@/]+)@/, `$1:${SECRET}@`);
      expect(withPassword).toContain(SECRET);
      const out = path.join(await tempDir(), 'out');
      const result = await runCli(['score', CDNOW_CSV, '--as-of', '1997-09-30', '--format', 'csv', '--no-db', '--out', out, '--engine', withPassword, '--schema', under.schema, '--debug']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).not.toContain(SECRET);
      const summary = await readFile(path.join(out, 'summary.json'), 'utf8');
      expect(summary).not.toContain(SECRET);
      expect(JSON.parse(summary).run.options.engine).toContain(':***@');
    });
  },
  'postgres',
);
