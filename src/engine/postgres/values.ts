import pg from 'pg';

/*
 * How PostgreSQL's values arrive in JS: as the DuckDB engine gives them, so a
 * stage reads the same row objects on either engine. The driver's defaults
 * differ in three ways that matter: BIGINT and NUMERIC come as strings (sum
 * and count return them), and DATE and TIMESTAMP are read in the process's
 * local time zone.
 */

const OID = { INT8: 20, NUMERIC: 1700, DATE: 1082, TIMESTAMP: 1114 } as const;

const SAFE = /^-?\d{1,15}$/;

/** BIGINT: a number when exact (|x| ≤ 2^53 − 1), its decimal text otherwise, as DuckDbEngine does. */
export function parseBigint(text: string): number | string {
  if (SAFE.test(text)) return Number(text);
  const value = BigInt(text);
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : text;
}

/** NUMERIC: a double (DuckDB's DECIMAL → double), except a whole number too big for one exactly, kept as text like BIGINT. */
export function parseNumeric(text: string): number | string {
  if (/^-?\d+$/.test(text)) return parseBigint(text);
  return Number(text);
}

/** DATE as midnight UTC (DuckDB's DATE → Date); ±infinity as ±Infinity. */
export function parseDate(text: string): Date | number {
  if (text === 'infinity') return Number.POSITIVE_INFINITY;
  if (text === '-infinity') return Number.NEGATIVE_INFINITY;
  return new Date(`${text}T00:00:00Z`);
}

/** TIMESTAMP (no time zone) read as UTC, whatever TZ the process has. */
export function parseTimestamp(text: string): Date | number {
  if (text === 'infinity') return Number.POSITIVE_INFINITY;
  if (text === '-infinity') return Number.NEGATIVE_INFINITY;
  return new Date(`${text.replace(' ', 'T')}Z`);
}

const PARSERS: Record<number, (text: string) => unknown> = {
  [OID.INT8]: parseBigint,
  [OID.NUMERIC]: parseNumeric,
  [OID.DATE]: parseDate,
  [OID.TIMESTAMP]: parseTimestamp,
};

/** The type parsers of crm's client (pg's `types` option), the driver's own for every other type. */
export const crmTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    (format ?? 'text') === 'text' && PARSERS[oid] ? PARSERS[oid] : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};
