import { randomBytes } from 'node:crypto';
import type { QueryEngine } from '../Engine.js';
import { quoteIdentifierAnsi, quoteStringAnsi } from '../dialect.js';

/*
 * On Citus the stage tables of a run live in a schema of the run's own (a
 * TEMP table would stay on the coordinator): `<schema>_run_<pid>_<hex>`, pid
 * being the server process of the run's session, marked by a comment. It is
 * dropped when the engine closes; a killed run's is dropped by the next run
 * that opens on that server, once no session has that pid any more (a
 * session ends when its client dies).
 */

/** The comment that marks a scratch schema: nothing else with it is ever dropped. */
export const SCRATCH_COMMENT = 'crm: the stage tables of one run, dropped when it ends';

/** PostgreSQL's limit on a name, in bytes. */
const NAME_BYTES = 63;

/** The suffix that names the session: `_run_<pid>_<6 hex>`. */
const SUFFIX = /_run_([0-9]+)_[0-9a-f]{6}$/;

/** The scratch schema's name for a session of server process `pid`: `schema` cut (whole characters) to fit 63 bytes. */
export function scratchSchemaName(schema: string, pid: number, random = randomBytes(3).toString('hex')): string {
  const suffix = `_run_${pid}_${random}`;
  let prefix = schema;
  while (Buffer.byteLength(prefix + suffix) > NAME_BYTES) prefix = [...prefix].slice(0, -1).join('');
  return prefix + suffix;
}

/** Scratch schemas whose session is gone (a killed run's), by the mark and the pid in the name. */
const ABANDONED_SQL = `
SELECT nspname AS name FROM pg_namespace
WHERE obj_description(oid, 'pg_namespace') = ?
  AND nspname ~ ?
  AND substring(nspname FROM ?)::INTEGER NOT IN (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL)`;

/** Drops the scratch schemas of killed runs; returns their names. One that cannot be dropped (another user's, or one a concurrent run drops first) is left to a later run. */
export async function removeAbandonedScratchSchemas(engine: QueryEngine): Promise<string[]> {
  const pattern = SUFFIX.source;
  const rows = await engine.all<{ name: string }>(ABANDONED_SQL, [SCRATCH_COMMENT, pattern, pattern]);
  const removed: string[] = [];
  for (const { name } of rows) {
    try {
      await engine.run(`DROP SCHEMA IF EXISTS ${quoteIdentifierAnsi(name)} CASCADE`);
      removed.push(name);
    } catch {
      // Left for a later run.
    }
  }
  return removed;
}

/** Makes the session's scratch schema (marked, in one transaction: a schema without its mark is never found); returns its name. */
export async function createScratchSchema(engine: QueryEngine, schema: string): Promise<string> {
  const { pid } = (await engine.one<{ pid: number }>(`SELECT pg_backend_pid() AS pid`))!;
  const name = scratchSchemaName(schema, pid);
  const q = quoteIdentifierAnsi(name);
  await engine.run(`BEGIN; CREATE SCHEMA ${q}; COMMENT ON SCHEMA ${q} IS ${quoteStringAnsi(SCRATCH_COMMENT)}; COMMIT`);
  return name;
}
