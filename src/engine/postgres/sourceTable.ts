import { resolveColumns } from '../../config/columnMapping.js';
import { InputError, UsageError } from '../../errors.js';
import type { IngestOptions, Ingested, QueryEngine } from '../Engine.js';
import { postgresDialect } from './dialect.js';

/*
 * --source-table: transactions already in the cluster, read where they are.
 * The mapped columns (--customer-col and the rest, or the common names) must
 * be typed: the id any type (read as text, spaces around it dropped), the
 * date a DATE or TIMESTAMP (a timestamp with time zone is reduced to its day
 * in --timezone), the amount a number. A row is rejected for the reasons the
 * file ingest gives typed values: no customer id, no date, no amount, an
 * amount that is not a finite number or does not fit, a date more than a day
 * after the day of the run.
 *
 * Line numbers of a source table's rejects: a table has no lines, and its
 * physical order changes with every VACUUM and differs between Citus shards.
 * So the rejected rows are numbered 1, 2, … in the order of their customer id,
 * date, amount and order id (as text, in byte order, a missing value first):
 * the same rows give the same numbers, however they are stored. Only the
 * rejected rows are sorted, never the whole table.
 */

const q = postgresDialect.quoteIdentifier;

/** Rejected rows per reason, most first. */
export const SOURCE_REJECT_REASONS_SQL = `SELECT reason, count(*)::BIGINT AS n FROM rejects GROUP BY reason ORDER BY n DESC, reason`;

/** The largest amount a customer-day (NUMERIC(18,4)) holds. */
const AMOUNT_LIMIT = '1e14';

type ColumnKind = 'text' | 'date' | 'timestamp' | 'number' | 'float' | 'other';

function kindOf(type: string): ColumnKind {
  if (type === 'date') return 'date';
  if (type.startsWith('timestamp')) return 'timestamp';
  if (type === 'double precision' || type === 'real') return 'float';
  if (/^(smallint|integer|bigint|numeric)/.test(type)) return 'number';
  if (/^(text|character)/.test(type)) return 'text';
  return 'other';
}

/** `schema.table` (or a table on the search path) as a quoted name; each part as written, quoted. */
export function sourceTableName(spec: string): string {
  const parts = spec.split('.');
  if (parts.length > 2 || parts.some((p) => p.trim() === '')) {
    throw new UsageError(`--source-table ${spec}: expected schema.table (or a table on the search path)`);
  }
  return parts.map(q).join('.');
}

/**
 * Reads the source table into the run's customer days (`days`, created
 * already) and the rejects temp table, counting as the file ingest does
 * (read = accepted + rejected).
 */
export async function ingestSourceTable(
  engine: QueryEngine,
  spec: string,
  days: string,
  options: IngestOptions & { runDay: string },
): Promise<Ingested> {
  const table = sourceTableName(spec);
  const columns = await engine.all<{ name: string; type: string }>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
     WHERE attrelid = to_regclass(?) AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [table],
  );
  if (columns.length === 0) throw new InputError(`--source-table ${spec}: no such table (or it has no columns, or the user may not see it)`);
  const where = `--source-table ${spec}`;
  const mapping = resolveColumns(where, columns.map((c) => c.name), options.columns, true);
  const kind = (name: string) => kindOf(columns.find((c) => c.name === name)!.type);
  const typeError = (role: string, name: string, wanted: string) =>
    new InputError(`${where}: the ${role} column ${JSON.stringify(name)} is ${columns.find((c) => c.name === name)!.type}; it must be ${wanted}`);

  const dateKind = kind(mapping.date);
  if (dateKind !== 'date' && dateKind !== 'timestamp') throw typeError('date', mapping.date, 'a DATE or TIMESTAMP');
  const amountKind = kind(mapping.amount);
  if (amountKind !== 'number' && amountKind !== 'float') throw typeError('amount', mapping.amount, 'a number');

  const id = q(mapping.customer);
  const date = q(mapping.date);
  const amount = q(mapping.amount);
  // A float may hold NaN or ±Infinity, which no amount is.
  const finite = amountKind === 'float' ? `${amount} NOT IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8)` : 'true';
  const rows = `
SELECT *,
  CASE
    WHEN customer_id IS NULL OR customer_id = '' THEN 'missing customer id'
    WHEN order_date IS NULL THEN 'missing date'
    WHEN raw_amount IS NULL THEN 'missing amount'
    WHEN NOT amount_finite THEN 'non-numeric amount'
    WHEN abs(${amount}) >= ${AMOUNT_LIMIT} THEN 'amount out of range'
    WHEN order_date > $runDay::DATE + 1 THEN 'date in the future'
  END AS reason
FROM (
  SELECT trim(CAST(${id} AS TEXT), ' ') AS customer_id, CAST(${id} AS TEXT) AS raw_customer_id,
         CAST(${date} AS DATE) AS order_date, CAST(${date} AS TEXT) AS raw_order_date,
         ${amount}, CAST(${amount} AS TEXT) AS raw_amount, coalesce(${finite}, true) AS amount_finite,
         ${mapping.order ? `NULLIF(trim(CAST(${q(mapping.order)} AS TEXT)), '')` : 'CAST(NULL AS TEXT)'} AS order_id
  FROM ${table}
) mapped`;

  await engine.run(
    `INSERT INTO ${days} (customer_id, order_date, order_id, amount, rows)
     SELECT customer_id, order_date, order_id, sum(round(CAST(${amount} AS NUMERIC), 4))::NUMERIC(18,4), count(*)
     FROM (${rows}) checked WHERE reason IS NULL
     GROUP BY customer_id, order_date, order_id`,
    { runDay: options.runDay },
  );
  await engine.run(`DROP TABLE IF EXISTS pg_temp.rejects`);
  await engine.run(
    `CREATE TEMP TABLE rejects AS
     SELECT CAST($source AS TEXT) AS source,
            row_number() OVER (ORDER BY customer_id COLLATE "C" NULLS FIRST, order_date NULLS FIRST, raw_amount COLLATE "C" NULLS FIRST, order_id COLLATE "C" NULLS FIRST)::BIGINT AS line,
            reason, raw_customer_id AS customer_id, raw_order_date AS order_date, raw_amount AS amount, CAST(NULL AS TEXT) AS raw_line
     FROM (${rows}) checked WHERE reason IS NOT NULL`,
    { runDay: options.runDay, source: spec },
  );
  await engine.run(`DROP VIEW IF EXISTS pg_temp.customer_days; CREATE TEMP VIEW customer_days AS SELECT * FROM ${days}`);
  const counts = (await engine.one<{ read: number; accepted: number; rejected: number }>(
    `SELECT (SELECT count(*) FROM ${table})::BIGINT AS read,
            (SELECT coalesce(sum(rows), 0) FROM ${days})::BIGINT AS accepted,
            (SELECT count(*) FROM rejects)::BIGINT AS rejected`,
  ))!;
  if (counts.read !== counts.accepted + counts.rejected) {
    // Never expected (unless rows were added to the table meanwhile): every row is either a customer day's or a reject.
    throw new Error(`row counts do not reconcile: ${counts.read} read, ${counts.accepted} accepted, ${counts.rejected} rejected (was ${spec} written to during the run?)`);
  }
  if (counts.read === 0) throw new InputError(`${where}: the table has no rows`);
  return {
    customerDays: 'customer_days',
    rejects: 'rejects',
    counts,
    files: [spec],
    hasOrderIds: mapping.order !== null,
    // Without order ids the rows are one per customer and day already.
    singleSource: true,
    dayTables: [days],
    runDay: options.runDay,
  };
}
