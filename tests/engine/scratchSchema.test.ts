/**
 * The run's scratch schema on Citus (src/engine/postgres/scratch.ts): where a
 * run's stage tables live, made on open, dropped on close, and a killed
 * run's removed by the next run, never a live run's or a schema crm did not
 * mark.
 */
import { describe, expect, it } from 'vitest';
import type { QueryEngine } from '../../src/engine/Engine.js';
import type { PostgresEngine } from '../../src/engine/postgres/PostgresEngine.js';
import { SCRATCH_COMMENT, scratchSchemaName } from '../../src/engine/postgres/scratch.js';
import { runStatements } from '../../src/engine/tables.js';
import { describeEachEngine, POSTGRES_HAS_CITUS } from '../engines.js';

describe('scratchSchemaName', () => {
  it('is <schema>_run_<pid>_<random>, the schema cut at whole characters to fit 63 bytes', () => {
    expect(scratchSchemaName('crm', 4242, 'a1b2c3')).toBe('crm_run_4242_a1b2c3');
    // 'é' is 2 bytes: 30 of them are 60 bytes, and the suffix _run_4242_a1b2c3 is 16, so 23 fit (46 + 16 = 62).
    const name = scratchSchemaName('é'.repeat(30), 4242, 'a1b2c3');
    expect(name).toBe(`${'é'.repeat(23)}_run_4242_a1b2c3`);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
  });
});

const schemaExists = async (engine: QueryEngine, name: string) =>
  (await engine.one<{ n: number }>(`SELECT count(*) AS n FROM pg_namespace WHERE nspname = ?`, [name]))!.n === 1;

/** Waits until the server has ended the session of backend `pid` (pg_terminate_backend returns before it has). */
async function sessionEnded(engine: QueryEngine, pid: number): Promise<void> {
  for (;;) {
    const { n } = (await engine.one<{ n: number }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE pid = ?`, [pid]))!;
    if (n === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describeEachEngine(
  'scratch schema',
  import.meta.url,
  ({ engine, open, schema }) => {
    const scratchOf = (e: QueryEngine) => (e as PostgresEngine).scratchSchema;

    it.runIf(POSTGRES_HAS_CITUS)('makes a marked scratch schema on open, first on the search_path, and drops it with its tables on close', async () => {
      const run = await open();
      const scratch = scratchOf(run)!;
      try {
        expect(scratch).toMatch(new RegExp(`^${schema.slice(0, 44)}_run_\\d+_[0-9a-f]{6}$`));
        const { pid } = (await run.one<{ pid: number }>(`SELECT pg_backend_pid() AS pid`))!;
        expect(scratch).toContain(`_run_${pid}_`);
        expect(await run.one(`SELECT obj_description(oid, 'pg_namespace') AS comment FROM pg_namespace WHERE nspname = ?`, [scratch])).toEqual({ comment: SCRATCH_COMMENT });
        expect(await run.one(`SELECT array_to_string(current_schemas(false), ',') AS path`)).toEqual({ path: `${scratch},${schema},public` });
        await runStatements(run, run.dialect.createTempTableAs('customer_totals', `SELECT 'c1' AS customer_id, 10 AS total`));
        expect(await run.one(`SELECT table_schema FROM information_schema.tables WHERE table_name = 'customer_totals'`)).toEqual({ table_schema: scratch });
      } finally {
        await run.close();
      }
      expect(await schemaExists(engine(), scratch)).toBe(false);
    });

    it.runIf(POSTGRES_HAS_CITUS)('removes a killed run’s scratch schema when the next run opens, never a live run’s or an unmarked one', async () => {
      const q = engine().dialect.quoteIdentifier;
      const live = await open();
      const killed = await open();
      const unmarked = `${schema.slice(0, 40)}_run_1_abcdef`;
      try {
        await runStatements(killed, killed.dialect.createTempTableAs('customer_totals', `SELECT 'c1' AS customer_id, 10 AS total`));
        const gone = scratchOf(killed)!;
        // The server ends the session, as it does when the client process dies.
        const { pid } = (await killed.one<{ pid: number }>(`SELECT pg_backend_pid() AS pid`))!;
        await engine().run(`SELECT pg_terminate_backend(CAST(? AS INTEGER))`, [pid]);
        await sessionEnded(engine(), pid);
        // Named like a scratch schema of a session long gone (pid 1), but not marked by crm: someone else's.
        await engine().run(`CREATE SCHEMA ${q(unmarked)}`);
        expect(await schemaExists(engine(), gone)).toBe(true);

        const next = await open();
        try {
          expect(await schemaExists(engine(), gone)).toBe(false);
          expect(await schemaExists(engine(), scratchOf(live)!)).toBe(true);
          expect(await schemaExists(engine(), unmarked)).toBe(true);
        } finally {
          await next.close();
        }
      } finally {
        await killed.close();
        await live.close();
        await engine().run(`DROP SCHEMA IF EXISTS ${q(unmarked)}`);
      }
    });

    it.runIf(!POSTGRES_HAS_CITUS)('keeps TEMP tables on plain PostgreSQL: no scratch schema', () => {
      expect(scratchOf(engine())).toBeNull();
    });
  },
  'postgres',
);
