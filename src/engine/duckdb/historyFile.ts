import { access, mkdir } from 'node:fs/promises';
import { InputError } from '../../errors.js';
import path from 'node:path';
import type { HistoryLayout, QueryEngine, RunHistory } from '../Engine.js';
import { duckdbDialect } from './dialect.js';

/*
 * The run history on DuckDB: a database file attached as `history`. What only
 * a DuckDB file has lives here: its catalog, and the layout of databases
 * written before labels were stored as ids.
 */

export const HISTORY_ALIAS = 'history';

/** The history's tables and views of that name, from DuckDB's catalog. */
const RELATION_COUNT_SQL = `
SELECT count(*)::BIGINT AS n FROM (
  SELECT table_name AS name FROM duckdb_tables() WHERE database_name = '${HISTORY_ALIAS}' AND schema_name = 'main'
  UNION ALL SELECT view_name FROM duckdb_views() WHERE database_name = '${HISTORY_ALIAS}' AND schema_name = 'main'
) WHERE name = $name`;

export async function historyHas(engine: QueryEngine, name: string): Promise<boolean> {
  return (await engine.one<{ n: number }>(RELATION_COUNT_SQL, { name }))!.n > 0;
}

/** A database written before labels were stored as ids has customer_scores as a table. */
const OLD_LAYOUT_SQL = `
SELECT count(*)::BIGINT AS n FROM duckdb_tables() WHERE database_name = '${HISTORY_ALIAS}' AND schema_name = 'main' AND table_name = 'customer_scores'`;

/** The alias of the labels table joined for a label column. */
const labelAlias = (column: { name: string }) => `label_${column.name}`;

/**
 * Moves an old database to the `layout` the history stage has now, in one
 * transaction: the labels found in the old table (ids in text order), the
 * rows with ids, then the old table goes and the view (made with the other
 * relations) takes its name.
 */
const migrateOldLayoutSql = (h: string, layout: HistoryLayout) => {
  const q = duckdbDialect.quoteIdentifier;
  const labelColumns = layout.scoreColumns.filter((c) => c.label);
  return [
    layout.labelsTable(h, duckdbDialect),
    `INSERT INTO ${h}.labels
   SELECT (row_number() OVER (ORDER BY label) - 1)::INTEGER, label
   FROM (SELECT DISTINCT unnest([${labelColumns.map((c) => `CAST(${q(c.name)} AS VARCHAR)`).join(', ')}]) AS label FROM ${h}.customer_scores)
   WHERE label IS NOT NULL`,
    layout.scoresTable(h, duckdbDialect),
    `INSERT INTO ${h}.scores
   SELECT o.run_id, ${layout.scoreColumns.map((c) => (c.label ? `${labelAlias(c)}.label_id` : `o.${q(c.name)}`)).join(', ')}
   FROM ${h}.customer_scores o
   ${labelColumns.map((c) => `LEFT JOIN ${h}.labels ${labelAlias(c)} ON ${labelAlias(c)}.label = o.${q(c.name)}`).join('\n   ')}`,
    `DROP TABLE ${h}.customer_scores`,
  ];
};

/**
 * Opens the history file `db` as `history`, through `attach` (which reports a
 * file another process holds): a new database's folder is made first, like
 * --out's (read-only, a missing file is an error that says so), and a database of the old layout is moved to `layout` when
 * opened for writing.
 */
export async function openHistoryFile(
  engine: QueryEngine,
  db: string,
  { readOnly, layout }: { readOnly: boolean; layout: HistoryLayout },
  attach: (file: string, alias: string, options: { readOnly: boolean }) => Promise<void>,
): Promise<RunHistory> {
  if (!readOnly) await mkdir(path.dirname(path.resolve(db)), { recursive: true });
  else await access(db).catch(() => {
    throw new InputError(`${db}: no such database (run crm score with --db first)`);
  });
  await attach(db, HISTORY_ALIAS, { readOnly });
  if (!readOnly && (await engine.one<{ n: number }>(OLD_LAYOUT_SQL))!.n > 0) {
    await engine.run('BEGIN TRANSACTION');
    try {
      for (const sql of migrateOldLayoutSql(HISTORY_ALIAS, layout)) await engine.run(sql);
      await engine.run('COMMIT');
    } catch (error) {
      await engine.run('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
  return { qualifier: HISTORY_ALIAS, where: db, folder: path.dirname(path.resolve(db)), readOnly };
}
