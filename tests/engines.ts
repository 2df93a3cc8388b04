/**
 * The engines a test suite runs on (after Malloy's `databases/all`): one
 * suite, `describe`d once per engine, its titles starting `[duckdb]` or
 * `[postgres]` (`only` narrows it to one engine's specifics). CRM_TEST_ENGINES picks them (default `duckdb`; `duckdb,postgres`),
 * CRM_TEST_POSTGRES_URL says where PostgreSQL/Citus is. A postgres asked for
 * but not reachable fails the suite under CI=true and is skipped, said once,
 * elsewhere, so a plain `npm test` passes on a machine without PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { DuckDbEngine } from '../src/engine/duckdb/DuckDbEngine.js';
import type { QueryEngine } from '../src/engine/Engine.js';
import { parsePostgresTarget, redactedUrl } from '../src/engine/postgres/connection.js';
import { PostgresEngine } from '../src/engine/postgres/PostgresEngine.js';

export type EngineName = 'duckdb' | 'postgres';

export const POSTGRES_URL = process.env.CRM_TEST_POSTGRES_URL || 'postgresql://postgres@localhost:55432/crm';

const requested = (process.env.CRM_TEST_ENGINES || 'duckdb')
  .split(',')
  .map((name) => name.trim())
  .filter(Boolean);
for (const name of requested) {
  if (name !== 'duckdb' && name !== 'postgres') throw new Error(`CRM_TEST_ENGINES: unknown engine ${name}; use duckdb, postgres or duckdb,postgres`);
}

const HOW_TO_RUN =
  'to run it: bash ../shared/citus/install.sh ../shared/citus && BASE=$(mktemp -d) ../shared/citus/start-cluster.sh, ' +
  `then CRM_TEST_ENGINES=duckdb,postgres CRM_TEST_POSTGRES_URL=postgresql://postgres@localhost:55432/crm npx vitest run`;

/** Whether the server answers, and has Citus; the reason it does not, if not. */
async function probe(): Promise<{ reachable: boolean; citus: boolean; reason: string }> {
  try {
    const engine = await PostgresEngine.create({ target: parsePostgresTarget(POSTGRES_URL, 'CRM_TEST_POSTGRES_URL'), schema: 'public' });
    const citus = engine.capabilities.distributed;
    await engine.close();
    return { reachable: true, citus, reason: '' };
  } catch (error) {
    return { reachable: false, citus: false, reason: (error as Error).message };
  }
}

const postgres = requested.includes('postgres') ? await probe() : { reachable: false, citus: false, reason: `CRM_TEST_ENGINES=${requested.join(',')}` };

/** The server under test has Citus (the CI cluster does): placement tests run only there. */
export const POSTGRES_HAS_CITUS = postgres.citus;

if (!postgres.reachable && process.env.CI !== 'true') {
  console.warn(`[postgres] engine suite skipped (${postgres.reason}); ${HOW_TO_RUN}`);
}

/** A schema of its own for each test file and process, so parallel runs never meet; dropped afterwards. */
const testSchema = (file: string) => `crm_test_${path.basename(file).replace(/\W+/g, '_').slice(0, 30)}_${process.pid}_${randomBytes(3).toString('hex')}`;

/** A fresh engine of that kind: DuckDB in memory, PostgreSQL in `schema`. */
export async function openTestEngine(name: EngineName, schema: string): Promise<QueryEngine> {
  if (name === 'duckdb') return DuckDbEngine.create({ threads: 1 });
  return PostgresEngine.create({ target: parsePostgresTarget(POSTGRES_URL, 'CRM_TEST_POSTGRES_URL'), schema });
}

export interface EngineUnderTest {
  name: EngineName;
  /** The engine the suite's tests share (opened before them, closed after). */
  engine(): QueryEngine;
  /** Another engine on the same database and schema, for tests that need a second session; the caller closes it. */
  open(): Promise<QueryEngine>;
  schema: string;
}

/**
 * `suite` once per requested engine, under `[engine] title`. `file` (the test
 * file's `import.meta.url` or name) names the per-file schema on PostgreSQL.
 */
export function describeEachEngine(title: string, file: string, suite: (under: EngineUnderTest) => void, only?: EngineName): void {
  const engines = (requested as EngineName[]).filter((n) => only === undefined || n === only);
  // A file whose only suite is for an engine not asked for would fail as "no test suite found": it is skipped, said so.
  if (engines.length === 0) {
    describe.skip(`[${only}] ${title}`, () => {
      it(`runs with CRM_TEST_ENGINES including ${only}`, () => undefined);
    });
  }
  for (const name of engines) {
    if (name === 'postgres' && !postgres.reachable) {
      if (process.env.CI === 'true') {
        describe(`[postgres] ${title}`, () => {
          it('needs the PostgreSQL/Citus cluster (CI=true: the postgres suite must run)', () => {
            throw new Error(`PostgreSQL at ${redactedUrl(POSTGRES_URL)} is not reachable: ${postgres.reason}; ${HOW_TO_RUN}`);
          });
        });
      } else {
        describe.skip(`[postgres] ${title}`, () => {
          it('needs PostgreSQL/Citus', () => undefined);
        });
      }
      continue;
    }
    describe(`[${name}] ${title}`, () => {
      const schema = testSchema(file);
      let shared: QueryEngine | undefined;
      beforeAll(async () => {
        shared = await openTestEngine(name, schema);
      });
      afterAll(async () => {
        if (!shared) return;
        if (name === 'postgres') await shared.run(`DROP SCHEMA IF EXISTS ${shared.dialect.quoteIdentifier(schema)} CASCADE`);
        await shared.close();
      });
      suite({
        name,
        schema,
        engine: () => shared!,
        open: () => openTestEngine(name, schema),
      });
    });
  }
}
