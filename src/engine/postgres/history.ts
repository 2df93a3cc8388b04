/*
 * The run history on PostgreSQL: the tables of the engine's schema. What only
 * PostgreSQL needs for it lives here: the advisory lock that lets one process
 * record at a time, and the size of the tables.
 */

/**
 * The advisory lock of a schema's run history (`?`: the schema's name):
 * crm's class of lock and the schema, both hashed to the two int4 keys.
 * Exclusive for a writer, shared for a reader; `try` answers at once whether
 * it was taken, for the caller to wait as it does on a DuckDB file's lock.
 */
export const historyLockSql = (shared: boolean, verb: 'try' | 'unlock') =>
  `SELECT ${verb === 'try' ? 'pg_try_advisory_lock' : 'pg_advisory_unlock'}${shared ? '_shared' : ''}(hashtext('crm run history'), hashtext(?)) AS locked`;

/** The bytes the history's tables take (`$schema`), with their indexes; on Citus over every node. */
export const historyBytesSql = (distributed: boolean) => {
  const size = distributed ? 'citus_total_relation_size' : 'pg_total_relation_size';
  const table = `to_regclass(format('%I.%I', $schema::text, name))`;
  return `SELECT coalesce(sum(${size}(${table})), 0)::BIGINT AS bytes
FROM unnest(ARRAY['runs', 'labels', 'scores', 'pending_runs', 'run_clusters']) AS t(name) WHERE ${table} IS NOT NULL`;
};
