/**
 * `--engine` as an engine: the spec is parsed and checked before anything
 * connects, and the password of a URL never shows in what crm says.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../src/engine/duckdb/DuckDbEngine.js';
import { checkEngineSettings, openEngine, parseEngineSpec } from '../../src/engine/openEngine.js';
import { connectTimeoutMillis, describeEnvironment, redactedUrl } from '../../src/engine/postgres/connection.js';
import { translatePostgresError } from '../../src/engine/postgres/errors.js';
import { EngineError, UsageError } from '../../src/errors.js';

const SECRET = 'hunter2:@/?x';
const ENCODED = encodeURIComponent(SECRET);

/** The error a promise rejects with. */
const failure = (work: Promise<unknown>) => work.then(() => new Error('expected a failure'), (error: unknown) => error as Error);

describe('the PostgreSQL URL as shown', () => {
  it('masks the password in the user part and in password parameters, keeping sslmode and the rest', () => {
    expect(redactedUrl(`postgresql://crm:${ENCODED}@db.example:6432/sales?sslmode=verify-full&application_name=nightly`)).toBe(
      'postgresql://crm:***@db.example:6432/sales?sslmode=verify-full&application_name=nightly',
    );
    expect(redactedUrl(`postgres://crm@db.example/sales?password=${ENCODED}&sslmode=require`)).toBe(
      'postgres://crm@db.example/sales?password=***&sslmode=require',
    );
    expect(redactedUrl('postgres://crm@db.example/sales')).toBe('postgres://crm@db.example/sales');
  });

  it('of the PG* variables names host, user and database, never PGPASSWORD', () => {
    const shown = describeEnvironment({ PGHOST: 'db.example', PGUSER: 'crm', PGDATABASE: 'sales', PGPASSWORD: SECRET });
    expect(shown).toBe('postgres (PGHOST=db.example PGUSER=crm PGDATABASE=sales)');
  });
});

describe('the connect timeout', () => {
  it("is the URL's connect_timeout, else PGCONNECT_TIMEOUT, else 30 s", () => {
    const url = (query: string) => ({ kind: 'url' as const, connectionString: `postgres://db.example/sales${query}`, password: undefined });
    expect(connectTimeoutMillis(url('?connect_timeout=5'), { PGCONNECT_TIMEOUT: '9' })).toBe(5000);
    expect(connectTimeoutMillis(url(''), { PGCONNECT_TIMEOUT: '9' })).toBe(9000);
    expect(connectTimeoutMillis({ kind: 'environment', password: undefined }, {})).toBe(30_000);
    expect(connectTimeoutMillis(url('?connect_timeout=soon'), {})).toBe(30_000);
  });
});

describe('--engine', () => {
  it('is DuckDB when absent or duckdb, PostgreSQL for a postgres:// or postgresql:// URL or postgres', () => {
    expect(parseEngineSpec(undefined)).toEqual({ kind: 'duckdb' });
    expect(parseEngineSpec('duckdb')).toEqual({ kind: 'duckdb' });
    expect(parseEngineSpec(`postgresql://crm:${ENCODED}@db.example/sales?sslmode=require`)).toEqual({
      kind: 'postgres',
      target: { kind: 'url', connectionString: `postgresql://crm:${ENCODED}@db.example/sales?sslmode=require`, password: SECRET },
    });
    expect(parseEngineSpec('postgres://db.example/sales')).toMatchObject({ kind: 'postgres', target: { kind: 'url', password: undefined } });
    expect(parseEngineSpec('postgres')).toMatchObject({ kind: 'postgres', target: { kind: 'environment' } });
  });

  it.each([
    ['another database', `mysql://crm:${ENCODED}@db.example/sales`, /^--engine mysql:\/\/crm:\*\*\*@db\.example\/sales: unknown engine/],
    ['a port out of range', `postgres://crm:${ENCODED}@db.example:99999/sales`, /^--engine postgres:\/\/crm:\*\*\*@db\.example:99999\/sales: not a valid PostgreSQL URL/],
    ['no host', `postgres://:${ENCODED}@/sales`, /^--engine postgres:\/\/:\*\*\*@\/sales: not a valid PostgreSQL URL/],
  ])('naming %s is a usage error naming the flag, without the password', async (_, spec, message) => {
    const error = await failure(openEngine(spec));
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('hunter2');
  });

  it('with --schema empty or past 63 bytes is a usage error, said alike by the check before opening and by openEngine, before connecting', async () => {
    // Nothing listens on port 1: an engine that connected before checking would fail as unreachable instead.
    const spec = 'postgres://crm@127.0.0.1:1/sales';
    const checked = (schema: string) => {
      try {
        checkEngineSettings(parseEngineSpec(spec), { schema });
        return new Error('expected a failure');
      } catch (error) {
        return error as Error;
      }
    };
    for (const [schema, message] of [
      ['', /^--schema: give the name of the schema/],
      ['  ', /^--schema: give the name of the schema/],
      ['é'.repeat(32), /^--schema é{32}: PostgreSQL names are at most 63 bytes long$/],
    ] as const) {
      const opened = await failure(openEngine(spec, { schema }));
      expect(opened).toBeInstanceOf(UsageError);
      expect(opened.message).toMatch(message);
      expect(checked(schema)).toBeInstanceOf(UsageError);
      expect(checked(schema).message).toBe(opened.message);
    }
    // 62 bytes is a name; DuckDB has no schema to check (the history commands refuse --schema there themselves).
    expect(() => checkEngineSettings(parseEngineSpec(spec), { schema: 'é'.repeat(31) })).not.toThrow();
    expect(() => checkEngineSettings(parseEngineSpec('duckdb'), { schema: '' })).not.toThrow();
  });

  it('to a server that accepts but never answers fails as unreachable after connect_timeout', async () => {
    // A listener on the loopback that takes the connection and says nothing, as a hung server would.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const error = await failure(openEngine(`postgres://crm:${ENCODED}@127.0.0.1:${port}/sales?connect_timeout=1`));
      expect(error).toMatchObject({ problem: 'unreachable', exitCode: 1 });
      expect(error.message).toMatch(/the connection timed out/);
      expect(error.message).not.toContain('hunter2');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('opens the embedded DuckDB by default', async () => {
    const engine = await openEngine(undefined, { threads: 1 });
    try {
      expect(engine).toBeInstanceOf(DuckDbEngine);
      expect(await engine.one(`SELECT CAST(? AS INTEGER) * 2 AS n`, [21])).toEqual({ n: 42 });
    } finally {
      await engine.close();
    }
  });

  it('to a server that is not there fails as unreachable, its URL shown without the password, nowhere in the stack either', async () => {
    // Port 1 on the loopback: nothing listens there, the connection is refused at once.
    const error = await failure(openEngine(`postgresql://crm:${ENCODED}@127.0.0.1:1/sales?sslmode=disable`));
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).problem).toBe('unreachable');
    expect((error as EngineError).exitCode).toBe(1);
    expect(error.message).toMatch(/^cannot connect to PostgreSQL at postgresql:\/\/crm:\*\*\*@127\.0\.0\.1:1\/sales\?sslmode=disable: connection refused/);
    expect(`${error.message}\n${error.stack}`).not.toContain('hunter2');
  });
});

describe('PostgreSQL errors', () => {
  /** An error as the driver raises it for a server's ErrorResponse. */
  const serverError = (code: string, message: string) => Object.assign(new pg.DatabaseError(message, message.length, 'error'), { code });

  it.each([
    ['53200', 'out-of-memory', 1, /ran out of memory/],
    ['53100', 'disk-full', 1, /disk is full/],
    ['28P01', 'credentials', 2, /refused the user name or password/],
    ['3D000', 'no-database', 2, /database does not exist/],
    ['42501', 'permission', 2, /lacks a privilege/],
    ['57014', 'lock-timeout', 1, /cancelled the statement/],
  ] as const)('SQLSTATE %s is said as %s (exit %i), without the password even where the server quoted it', (code, problem, exitCode, says) => {
    const error = translatePostgresError(serverError(code, `failed near '${SECRET}'`), 'postgres://crm:***@db/sales', SECRET);
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({ problem, exitCode });
    expect((error as Error).message).toMatch(says);
    expect((error as Error).message).toContain(`failed near '***'`);
    expect((error as Error).message).not.toContain('hunter2');
  });

  it.each([
    ['a certificate check', Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' })],
    ['a server without TLS', new Error('The server does not support SSL connections')],
  ])('%s is said as a TLS setting to change (exit 2)', (_, driverError) => {
    const error = translatePostgresError(driverError, 'postgres://crm:***@db/sales?sslmode=require', SECRET);
    expect(error).toMatchObject({ problem: 'tls', exitCode: 2 });
    expect((error as Error).message).toMatch(/^cannot connect to PostgreSQL at postgres:\/\/crm:\*\*\*@db\/sales\?sslmode=require: the TLS connection failed .*check sslmode/);
  });

  it('any other error stays as it is, its message and stack scrubbed of the password', () => {
    const error = translatePostgresError(serverError('42601', `syntax error at or near "${SECRET}"`), 'postgres://crm:***@db/sales', SECRET) as Error;
    expect(error).not.toBeInstanceOf(EngineError);
    expect(error.message).toBe('syntax error at or near "***"');
    expect(error.stack).not.toContain('hunter2');
  });
});
