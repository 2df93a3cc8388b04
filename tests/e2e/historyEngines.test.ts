/**
 * crm runs, migration and report as real CLI processes on every engine of
 * CRM_TEST_ENGINES: a DuckDB history file (--db), a history in a PostgreSQL
 * schema (--engine, --schema; no --db). The history's two runs are recorded
 * by tests/historyRuns.ts (the CLI cannot score on PostgreSQL yet); expected
 * values are worked out by hand from its rows.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/Engine.js';
import { attachHistory } from '../../src/stages/history/stage.js';
import { describeEachEngine, POSTGRES_URL } from '../engines.js';
import { lastMessage, logLines, runCli, tempDir } from '../helpers.js';
import { recordTestRun, RUN_1, RUN_2 } from '../historyRuns.js';

/** The cluster's URL with a password in it: the test cluster trusts local connections, so it is never asked for, and must never be shown. */
const PASSWORD = 'hunter2-s3cret';
const withPassword = (url: string) => {
  const parsed = new URL(url);
  parsed.password = PASSWORD;
  return parsed.toString();
};

describeEachEngine("crm runs, migration and report on each engine's history", import.meta.url, (under) => {
  let engineFlags: string[];
  /** Where crm runs says the history is. */
  let where: RegExp;

  beforeAll(async () => {
    const engine = under.engine() as Engine;
    const db = path.join(await tempDir(), 'crm.duckdb');
    const history = await attachHistory(engine, db);
    await recordTestRun(engine, history, 1, '2024-01-31', RUN_1, { inputs: ['a.csv', 'b.csv'], out: 'out1' });
    await recordTestRun(engine, history, 2, '2024-02-29', RUN_2, { inputs: ['b.csv', 'c.csv'], out: 'out2' });
    // The CLI takes the history's lock: this session lets go of it.
    await engine.closeHistory();
    // The flags differ by engine: DuckDB's history is a file, PostgreSQL's a schema of the cluster.
    engineFlags = under.name === 'duckdb' ? ['--db', db] : ['--engine', withPassword(POSTGRES_URL), '--schema', under.schema];
    where = under.name === 'duckdb' ? new RegExp(`^history: ${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, `) : new RegExp(`^history: schema ${under.schema} at postgresql://postgres:\\*\\*\\*@`);
  });

  it('crm runs lists both runs and says where the history is (a PostgreSQL URL without its password)', async () => {
    const result = await runCli(['runs', ...engineFlags, '--json']);
    expect(result.code).toBe(0);
    const runs = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(runs.map((r) => [r.run_id, r.as_of, r.inputs, r.customers])).toEqual([
      [1, '2024-01-31', ['a.csv', 'b.csv'], 5],
      [2, '2024-02-29', ['b.csv', 'c.csv'], 5],
    ]);
    const said = logLines(result.stderr)[0].msg;
    expect(said).toMatch(where);
    expect(said).toMatch(/, 2 runs, scores kept for all 2 \(--keep-runs 90\)$/);
    expect(result.stderr).not.toContain(PASSWORD);
  });

  it('crm migration writes the matrix of the two runs as CSV', async () => {
    const out = path.join(await tempDir(), 'moves.csv');
    const result = await runCli(['migration', ...engineFlags, '--out', out]);
    expect(result.code).toBe(0);
    expect(await readFile(out, 'utf8')).toBe(
      [
        'from,to,customers,revenue',
        '(new),Potential Loyalist,1,30',
        'Champions,Loyal,1,150.5',
        'Hibernating,Lost,1,20',
        'Lost,Lost,1,10',
        'Need Attention,Champions,1,90',
        'Promising,(gone),1,45',
        '',
      ].join('\n'),
    );
  });

  it("crm report writes the newest run's page", async () => {
    const out = path.join(await tempDir(), 'report.html');
    const result = await runCli(['report', ...engineFlags, '--out', out]);
    expect(result.code).toBe(0);
    const page = await readFile(out, 'utf8');
    expect(page).toContain('crm report — run 2 (as of 2024-02-29)');
  });

  // Said before any engine is opened: no server is needed for these.
  it.runIf(under.name === 'duckdb')('--db with --engine postgres, neither --db nor --engine, and --schema without postgres are usage errors that name the flags', async () => {
    const both = await runCli(['runs', '--engine', POSTGRES_URL, '--db', 'out/crm.duckdb']);
    expect(both.code).toBe(2);
    expect(lastMessage(both.stderr)).toBe('--db out/crm.duckdb names a DuckDB history file: with --engine postgres the history is in the cluster, under --schema (default crm)');
    const neither = await runCli(['migration']);
    expect(neither.code).toBe(2);
    expect(lastMessage(neither.stderr)).toMatch(/^--db is needed/);
    const schemaAlone = await runCli(['report', '--db', 'out/crm.duckdb', '--schema', 'crm', '--out', 'r.html']);
    expect(schemaAlone.code).toBe(2);
    expect(lastMessage(schemaAlone.stderr)).toBe('--schema crm is for --engine postgres: a DuckDB history is the file --db names');
  });

  it.runIf(under.name === 'postgres')('a schema without a history is an error that says so, and the read leaves the database without it', async () => {
    const missing = `${under.schema}_none`;
    const schemas = async () => (await under.engine().all<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname = ?`, [missing])).length;
    try {
      for (const command of [['runs'], ['migration'], ['report', '--out', 'none.html'], ['export', '--segment', 'Champions', '--out', 'none.csv']]) {
        const result = await runCli([...command, '--engine', POSTGRES_URL, '--schema', missing]);
        expect(result.code, command[0]).toBe(1);
        expect(lastMessage(result.stderr), command[0]).toMatch(/no run history there yet/);
        expect(await schemas(), command[0]).toBe(0);
      }
    } finally {
      await under.engine().run(`DROP SCHEMA IF EXISTS ${under.engine().dialect.quoteIdentifier(missing)} CASCADE`);
    }
  });
});
