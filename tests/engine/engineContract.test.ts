/**
 * The contract every engine meets (src/engine/Engine.ts), run on each engine
 * of CRM_TEST_ENGINES (tests/engines.ts). Expected values are worked out by
 * hand or from the definition, never read back from an engine.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { QueryEngine } from '../../src/engine/Engine.js';
import { openEngine } from '../../src/engine/openEngine.js';
import { EngineError } from '../../src/errors.js';
import { parsePostgresTarget } from '../../src/engine/postgres/connection.js';
import { PostgresEngine } from '../../src/engine/postgres/PostgresEngine.js';
import { describeEachEngine, POSTGRES_HAS_CITUS, POSTGRES_URL } from '../engines.js';

/** The portable stable hash, from its definition: the first 60 bits (15 hex digits) of md5 of the text. */
const md5Prefix60 = (text: string) => BigInt(`0x${createHash('md5').update(text, 'utf8').digest('hex').slice(0, 15)}`).toString();

const HOSTILE_TABLE = 'a"b; drop table x';
const HOSTILE_COLUMN = `it's "col" -- x`;

describeEachEngine('engine contract', import.meta.url, ({ name, engine, open }) => {
  it('binds positional and named parameters as values, never as SQL', async () => {
    const sneaky = `x'); DROP TABLE t; --`;
    const row = await engine().one(`SELECT CAST(? AS VARCHAR) AS s, CAST(? AS INTEGER) + 1 AS n, CAST(? AS VARCHAR) IS NULL AS missing`, [sneaky, 41, null]);
    expect(row).toEqual({ s: sneaky, n: 42, missing: true });
    const named = await engine().one(`SELECT CAST($who AS VARCHAR) || '?' || CAST($who AS VARCHAR) AS twice, CAST($n AS DOUBLE PRECISION) * 2 AS d`, { who: `$who ?`, n: 1.25 });
    expect(named).toEqual({ twice: `$who ??$who ?`, d: 2.5 });
    // A '?' inside a string literal is text, not a placeholder.
    expect(await engine().one(`SELECT '?' AS q, CAST(? AS INTEGER) AS v`, [7])).toEqual({ q: '?', v: 7 });
  });

  it('reads numeric columns as Float64Array, NULL as NaN', async () => {
    const columns = await engine().numericColumns(
      `SELECT x, y FROM (VALUES (1, CAST(1.5 AS DOUBLE PRECISION), CAST(NULL AS INTEGER)), (2, NULL, 2), (3, -0.25, NULL)) t(i, x, y) ORDER BY i`,
      ['x', 'y'],
    );
    expect(columns.x).toBeInstanceOf(Float64Array);
    expect(Array.from(columns.x)).toEqual([1.5, Number.NaN, -0.25]);
    expect(Array.from(columns.y)).toEqual([Number.NaN, 2, Number.NaN]);
    const none = await engine().numericColumns(`SELECT CAST(1 AS DOUBLE PRECISION) AS x WHERE 1 = 0`, ['x']);
    expect(none.x).toEqual(new Float64Array(0));
  });

  it('gives BIGINT as a number when exact and as its decimal text beyond 2^53, sums of BIGINT too', async () => {
    const row = await engine().one(
      `SELECT CAST(9007199254740991 AS BIGINT) AS safe, CAST(9007199254740993 AS BIGINT) AS beyond, CAST(-42 AS BIGINT) AS negative,
              (SELECT count(*) FROM (VALUES (1), (2), (3)) t(v)) AS counted,
              (SELECT sum(v) FROM (VALUES (CAST(4611686018427387904 AS BIGINT)), (CAST(4611686018427387904 AS BIGINT))) t(v)) AS summed`,
    );
    // 2^62 + 2^62 = 2^63 = 9223372036854775808, past BIGINT's own range.
    expect(row).toEqual({ safe: 9007199254740991, beyond: '9007199254740993', negative: -42, counted: 3, summed: '9223372036854775808' });
    const column = await engine().numericColumns(`SELECT CAST(123456789012 AS BIGINT) AS n`, ['n']);
    expect(Array.from(column.n)).toEqual([123456789012]);
  });

  it('loads typed arrays into a table and reads back the same doubles; non-finite values as NULL; loading again replaces it', async () => {
    const values = [0.1, 1 / 3, 1e-300, 1.7976931348623157e308, 5e-324, -123456.789, Number.NaN, Number.POSITIVE_INFINITY];
    const index = values.map((_, i) => i);
    await engine().loadColumns('loaded', { i: index, v: values });
    const back = await engine().numericColumns(`SELECT i, v FROM loaded ORDER BY i`, ['i', 'v']);
    expect(Array.from(back.i)).toEqual(index);
    expect(Array.from(back.v)).toEqual([0.1, 1 / 3, 1e-300, 1.7976931348623157e308, 5e-324, -123456.789, Number.NaN, Number.NaN]);
    await engine().loadColumns('loaded', { w: new Float64Array([2.5]) });
    expect(await engine().all(`SELECT * FROM loaded`)).toEqual([{ w: 2.5 }]);
    await engine().loadColumns('empty_load', { v: [] });
    expect(await engine().one(`SELECT count(*) AS n FROM empty_load`)).toEqual({ n: 0 });
  });

  it('streams a result in chunks of columns, more than one for 5000 rows, in order; a reader that stops early leaves the session usable', async () => {
    const chunks: unknown[][][] = [];
    for await (const chunk of engine().streamColumns(`SELECT CAST(i AS INTEGER) AS i, CAST(i AS VARCHAR) AS s FROM generate_series(1, 5000) t(i) WHERE i >= ? ORDER BY i`, [1])) {
      expect(chunk.names).toEqual(['i', 's']);
      chunks.push(chunk.columns);
    }
    expect(chunks.length).toBeGreaterThan(1);
    for (const columns of chunks) expect(columns[0]!.length).toBeLessThanOrEqual(2048);
    const all = chunks.flatMap((columns) => columns[0]!);
    expect(all).toEqual(Array.from({ length: 5000 }, (_, k) => k + 1));
    expect(chunks.flatMap((columns) => columns[1]!).at(-1)).toBe('5000');
    for await (const chunk of engine().streamColumns(`SELECT CAST(i AS INTEGER) AS i FROM generate_series(1, 5000) t(i) ORDER BY i`)) {
      expect(chunk.columns[0]![0]).toBe(1);
      break;
    }
    expect(await engine().one(`SELECT CAST(? AS INTEGER) AS still`, [1])).toEqual({ still: 1 });
  });

  it('counts the rows it hands over, and on PostgreSQL the bytes of their values as text', async () => {
    const e = engine();
    const before = e.pulled();
    await e.all(`SELECT CAST('abc' AS VARCHAR) AS a, CAST(NULL AS VARCHAR) AS b, CAST('é' AS VARCHAR) AS c UNION ALL SELECT 'de', 'f', ''`);
    await e.one(`SELECT CAST(12345 AS INTEGER) AS n`);
    await e.numericColumns(`SELECT CAST(1.5 AS DOUBLE PRECISION) AS x FROM generate_series(1, 3) t(i)`, ['x']);
    for await (const chunk of e.streamColumns(`SELECT CAST(i AS INTEGER) AS i FROM generate_series(1, 5000) t(i)`)) expect(chunk.names).toEqual(['i']);
    const after = e.pulled();
    expect(after.rows - before.rows).toBe(2 + 1 + 3 + 5000);
    // 'abc', NULL, 'é' (2 bytes in UTF-8), then 'de', 'f', '': 5 + 3; '12345': 5; '1.5' three times: 9; and the digits of 1..5000.
    const digits = Array.from({ length: 5000 }, (_, k) => String(k + 1).length).reduce((a, b) => a + b, 0);
    expect(after.bytes - before.bytes).toBe(name === 'postgres' ? 8 + 5 + 9 + digits : 0);
  });

  it('quotes hostile identifiers and string literals', async () => {
    const q = engine().dialect.quoteIdentifier;
    await engine().run(`CREATE TABLE x (v INTEGER)`);
    await engine().run(`CREATE TABLE ${q(HOSTILE_TABLE)} (${q(HOSTILE_COLUMN)} INTEGER)`);
    await engine().run(`INSERT INTO ${q(HOSTILE_TABLE)} VALUES (?)`, [5]);
    expect(await engine().all(`SELECT ${q(HOSTILE_COLUMN)} FROM ${q(HOSTILE_TABLE)}`)).toEqual([{ [HOSTILE_COLUMN]: 5 }]);
    // The table named x is still there: the name was a name, not a statement.
    expect(await engine().one(`SELECT count(*) AS n FROM x`)).toEqual({ n: 0 });
    await engine().loadColumns(HOSTILE_TABLE + '_temp', { [HOSTILE_COLUMN]: [1.5] });
    expect(await engine().all(`SELECT * FROM ${q(HOSTILE_TABLE + '_temp')}`)).toEqual([{ [HOSTILE_COLUMN]: 1.5 }]);
    const text = `O'Brien \\ 'quoted' -- not a comment`;
    expect(await engine().one(`SELECT ${engine().dialect.quoteString(text)} AS t`)).toEqual({ t: text });
  });

  it('counts whole days between dates, across leap days and backwards', async () => {
    const days = engine().dialect.daysBetween;
    const between = async (start: string, end: string) =>
      (await engine().one<{ d: number }>(`SELECT ${days(`DATE '${start}'`, `DATE '${end}'`)} AS d`))!.d;
    expect(await between('2024-02-28', '2024-03-01')).toBe(2); // 2024 is a leap year: Feb 29 in between
    expect(await between('2023-02-28', '2023-03-01')).toBe(1);
    expect(await between('2024-03-30', '2024-04-01')).toBe(2); // Europe's DST change on Mar 31 does not touch dates
    expect(await between('2024-03-01', '2024-02-28')).toBe(-2);
    expect(await between('2000-01-01', '2100-01-01')).toBe(36525); // 100 × 365 + 25 leap days (2000 … 2096)
  });

  it('numbers a label by its place in the label ENUM, from 0', async () => {
    await engine().run(`CREATE TYPE contract_label AS ENUM ('Lost', 'Champions', 'At Risk')`);
    const row = await engine().one(
      `SELECT ${engine().dialect.labelId(`CAST('At Risk' AS contract_label)`)} AS at_risk, ${engine().dialect.labelId(`CAST('Lost' AS contract_label)`)} AS lost`,
    );
    expect(row).toEqual({ at_risk: 2, lost: 0 });
  });

  it('computes the portable stable hash (first 60 bits of md5 of the text) identically', async () => {
    const ids = ['C1', 'customer-42', '', 'é#7', `O'Brien`];
    const hash = engine().dialect.stableHash;
    const rows = await engine().all<{ id: string; h: number | string }>(
      `SELECT id, ${hash('id')} AS h FROM (VALUES ${ids.map(() => '(CAST(? AS VARCHAR))').join(', ')}) t(id)`,
      ids,
    );
    expect(Object.fromEntries(rows.map((r) => [r.id, String(r.h)]))).toEqual(Object.fromEntries(ids.map((id) => [id, md5Prefix60(id)])));
  });

  it('rejects a failing statement and keeps its session (temp tables stay)', async () => {
    await engine().loadColumns('kept', { v: [1] });
    await expect(engine().run(`SELECT * FROM no_such_table_here`)).rejects.toThrow(/no_such_table_here/);
    expect(await engine().one(`SELECT count(*) AS n FROM kept`)).toEqual({ n: 1 });
  });

  it('has a scratch folder of its own under the temporary folder, gone after close', async () => {
    const second = await open();
    const folder = second.scratchFolder;
    try {
      expect(path.dirname(folder)).toBe(tmpdir());
      expect(path.basename(folder)).toMatch(new RegExp(`^crm-${name}-`));
      expect(statSync(folder).isDirectory()).toBe(true);
      expect(folder).not.toBe(engine().scratchFolder);
    } finally {
      await second.close();
    }
    expect(existsSync(folder)).toBe(false);
  });
});

describeEachEngine(
  'PostgreSQL specifics',
  import.meta.url,
  ({ engine, open, schema }) => {
  // Tables two sessions share are named with crm's schema: an unqualified one is a table of the run (its scratch schema on Citus).
  const inSchema = (table: string) => `${engine().dialect.quoteIdentifier(schema)}.${table}`;

  it('says a lock held by another session as a lock timeout', async () => {
    await engine().run(`CREATE TABLE ${inSchema('locked')} (v INTEGER)`);
    const other = await open();
    try {
      await other.run(`BEGIN; LOCK TABLE ${inSchema('locked')} IN ACCESS EXCLUSIVE MODE`);
      await engine().run(`SET lock_timeout = '200ms'`);
      const error = await engine().run(`SELECT * FROM ${inSchema('locked')}`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineError);
      expect((error as EngineError).problem).toBe('lock-timeout');
      expect((error as EngineError).exitCode).toBe(1);
      expect((error as Error).message).toMatch(/another session holds a lock/);
    } finally {
      await other.close();
      await engine().run(`RESET lock_timeout`);
    }
  });

  it('keeps what was written while a stream was read, when the reader stops early', async () => {
    await engine().run(`CREATE TABLE ${inSchema('written_meanwhile')} (v INTEGER)`);
    for await (const chunk of engine().streamColumns(`SELECT CAST(i AS INTEGER) AS i FROM generate_series(1, 5000) t(i)`)) {
      await engine().run(`INSERT INTO ${inSchema('written_meanwhile')} VALUES (?)`, [chunk.columns[0]!.length]);
      break;
    }
    const other = await open();
    try {
      expect(await other.all(`SELECT v FROM ${inSchema('written_meanwhile')}`)).toEqual([{ v: 2048 }]);
    } finally {
      await other.close();
    }
  });

  it('says a connection the server ended as unreachable, at the next statement and after', async () => {
    const ended = await open();
    try {
      const { pid } = (await ended.one<{ pid: number }>(`SELECT pg_backend_pid() AS pid`))!;
      expect(await engine().one(`SELECT pg_terminate_backend(CAST(? AS INTEGER)) AS done`, [pid])).toEqual({ done: true });
      for (const attempt of [1, 2]) {
        const error = await ended.one(`SELECT ? AS attempt`, [attempt]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(EngineError);
        expect(error).toMatchObject({ problem: 'unreachable', exitCode: 1 });
      }
    } finally {
      await ended.close();
    }
  });

  it('says an unknown user as a credentials problem (exit 2), the URL shown without the password', async () => {
    const url = new URL(POSTGRES_URL);
    url.username = 'nobody_here';
    url.password = 'hunter2';
    const error = await PostgresEngine.create({ target: parsePostgresTarget(url.toString()), schema }).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({ problem: 'credentials', exitCode: 2 });
    expect((error as Error).message).toContain(`nobody_here:***@${url.host}`);
    expect(`${(error as Error).message}\n${(error as Error).stack}`).not.toContain('hunter2');
  });

  it('works in a schema its DBA made, for a user who may not create schemas', async () => {
    const q = engine().dialect.quoteIdentifier;
    const role = `crm_limited_${process.pid}`;
    const granted = `${schema.slice(0, 50)}_g`;
    await engine().run(`CREATE ROLE ${q(role)} LOGIN; CREATE SCHEMA ${q(granted)}; GRANT USAGE, CREATE ON SCHEMA ${q(granted)} TO ${q(role)}`);
    try {
      const url = new URL(POSTGRES_URL);
      url.username = role;
      const limited = await PostgresEngine.create({ target: parsePostgresTarget(url.toString()), schema: granted });
      try {
        // Without CREATE on the database there is no scratch schema: the run's tables are TEMP tables, even on Citus.
        expect(limited.scratchSchema).toBeNull();
        await limited.run(`CREATE TABLE mine (v INTEGER)`);
        expect(await limited.one(`SELECT table_schema FROM information_schema.tables WHERE table_name = 'mine'`)).toEqual({ table_schema: granted });
      } finally {
        await limited.close();
      }
    } finally {
      await engine().run(`DROP SCHEMA ${q(granted)} CASCADE; DROP ROLE ${q(role)}`);
    }
  });

  it('connects with `--engine postgres` from the standard PG* variables', async () => {
    const url = new URL(POSTGRES_URL);
    const saved = { ...process.env };
    Object.assign(process.env, { PGHOST: url.hostname, PGPORT: url.port || '5432', PGUSER: decodeURIComponent(url.username), PGDATABASE: url.pathname.slice(1) });
    let fromEnvironment: QueryEngine | undefined;
    try {
      fromEnvironment = await openEngine('postgres', { schema });
      const scratch = (fromEnvironment as PostgresEngine).scratchSchema;
      expect(await fromEnvironment.one(`SELECT current_database() AS db, inet_server_port() AS port, array_to_string(current_schemas(false), ',') AS path`)).toEqual({
        db: url.pathname.slice(1),
        port: Number(url.port || 5432),
        path: [...(scratch ? [scratch] : []), schema, 'public'].join(','),
      });
    } finally {
      await fromEnvironment?.close();
      for (const name of ['PGHOST', 'PGPORT', 'PGUSER', 'PGDATABASE']) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
  });

  it('keeps crm tables in its schema, on the search_path after the run’s scratch schema (Citus)', async () => {
    const scratch = (engine() as PostgresEngine).scratchSchema;
    await engine().run(`CREATE TABLE ${inSchema('in_schema')} (v INTEGER); INSERT INTO ${inSchema('in_schema')} VALUES (7)`);
    expect(await engine().one(`SELECT v FROM in_schema`)).toEqual({ v: 7 });
    await engine().run(`CREATE TABLE of_the_run (v INTEGER)`);
    expect(await engine().one(`SELECT table_schema FROM information_schema.tables WHERE table_name = 'of_the_run'`)).toEqual({
      table_schema: POSTGRES_HAS_CITUS ? scratch : schema,
    });
  });

  describe.runIf(POSTGRES_HAS_CITUS)('on Citus', () => {
    const postgres = () => engine() as PostgresEngine;

    it('distributes per-customer tables by customer_id over both workers, co-located, and fills them with INSERT … SELECT', async () => {
      expect(postgres().capabilities).toMatchObject({ distributed: true, createTableAs: 'local-on-citus' });
      await postgres().createPerCustomerTable('spend', {
        columns: { customer_id: 'text', amount: 'double precision' },
        select: `SELECT 'c' || i, i * CAST(? AS DOUBLE PRECISION) FROM generate_series(1, 1000) t(i)`,
        params: [0.5],
      });
      await postgres().createPerCustomerTable('doubled', {
        columns: { customer_id: 'text', twice: 'double precision' },
        select: `SELECT customer_id, amount * 2 FROM spend`,
      });
      const partitions = await engine().all(
        `SELECT logicalrelid::regclass::text AS tab, partmethod, column_to_column_name(logicalrelid, partkey) AS by, colocationid
           FROM pg_dist_partition WHERE logicalrelid IN (to_regclass('spend'), to_regclass('doubled')) ORDER BY 1`,
      );
      expect(partitions.map(({ tab, partmethod, by }) => ({ tab, partmethod, by }))).toEqual([
        { tab: 'doubled', partmethod: 'h', by: 'customer_id' },
        { tab: 'spend', partmethod: 'h', by: 'customer_id' },
      ]);
      expect(partitions[0]!.colocationid).toBe(partitions[1]!.colocationid);
      const ports = await engine().all<{ nodeport: number }>(
        `SELECT DISTINCT nodeport FROM citus_shards WHERE table_name = to_regclass('spend') ORDER BY nodeport`,
      );
      const workers = await engine().all<{ nodeport: number }>(`SELECT nodeport FROM pg_dist_node WHERE groupid <> 0 ORDER BY nodeport`);
      expect(workers.length).toBe(2);
      expect(ports).toEqual(workers);
      // Sum of i/2 for i = 1..1000 = 250250, doubled = 500500.
      expect(await engine().one(`SELECT count(*) AS n, sum(amount) AS spent FROM spend`)).toEqual({ n: 1000, spent: 250250 });
      expect(await engine().one(`SELECT sum(twice) AS s FROM doubled`)).toEqual({ s: 500500 });
      // Between co-located tables the INSERT … SELECT runs on the workers, nothing pulled to the coordinator.
      const plan = (await engine().all<{ 'QUERY PLAN': string }>(`EXPLAIN INSERT INTO doubled SELECT customer_id, amount FROM spend`))
        .map((r) => r['QUERY PLAN'])
        .join('\n');
      expect(plan).toMatch(/Task Count: \d+/);
      expect(plan).not.toMatch(/pull to coordinator|repartition/i);
    });

    it('replicates small tables to every worker as reference tables', async () => {
      await postgres().createReferenceTable('cut_points', {
        columns: { dimension: 'text', cut: 'double precision' },
        select: `SELECT * FROM (VALUES ('recency', 30.0), ('frequency', 2.0)) t(d, c)`,
      });
      expect(await engine().one(`SELECT partmethod, repmodel FROM pg_dist_partition WHERE logicalrelid = to_regclass('cut_points')`)).toEqual({
        partmethod: 'n',
        repmodel: 't',
      });
      const onWorkers = await engine().all(
        `SELECT DISTINCT s.nodeport FROM citus_shards s JOIN pg_dist_node n ON n.nodeport = s.nodeport AND n.groupid <> 0
          WHERE s.table_name = to_regclass('cut_points') ORDER BY 1`,
      );
      expect(onWorkers.length).toBe(2);
      expect(await engine().all(`SELECT dimension, cut FROM cut_points ORDER BY dimension`)).toEqual([
        { dimension: 'frequency', cut: 2 },
        { dimension: 'recency', cut: 30 },
      ]);
    });
  });
},
  'postgres',
);
