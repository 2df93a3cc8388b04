// Named imports, not the `z` namespace: the bundle then leaves out the parts of
// zod this file does not use (its locales alone are most of it), which is
// about 40 ms of every command's start-up.
import { totalmem } from 'node:os';
import { CLV_MODELS, TABLE_FORMATS } from './lists.js';
import { array, boolean, enum as enumOf, literal, number, object, string, union, type output } from 'zod';

/**
 * Every option of `crm score`, whether it comes from a flag or a config file.
 * Defaults live here and nowhere else.
 */
/**
 * YYYY-MM-DD naming a day that exists (not 2024-02-30). Date rolls a day past
 * the month's end over, so the round trip catches that; month 13 or day 32 make
 * an invalid Date, whose toISOString would throw instead of answering.
 */
export const isCalendarDate = (text: string) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const day = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(day.getTime()) && day.toISOString().startsWith(text);
};
const isoDate = string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD').refine(isCalendarDate, 'not a day of the calendar');
/** An IANA time zone name; Node's ICU and DuckDB's know the same ones. */
const timeZone = string()
  .min(1)
  .refine((name) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: name });
      return true;
    } catch {
      return false;
    }
  }, 'unknown time zone; expected an IANA name such as UTC or Europe/Paris');
/**
 * DuckDB 1.5's CSV reader takes a delimiter of 1 to 4 bytes (`||`, `€` work);
 * a longer one, or a line break, is refused here, before any file is read.
 */
const isReadableDelimiter = (d: string) => d === 'tab' || d === 'whitespace' || (new TextEncoder().encode(d).length <= 4 && !/[\r\n]/.test(d));
const DELIMITER_RULE = "expected 'tab', 'whitespace' or 1 to 4 bytes of text without a line break (DuckDB's CSV reader takes no longer delimiter)";
const cutPoints = array(number()).length(4, 'expected 4 ascending cut points').refine(
  (points) => points.every((p, i) => i === 0 || p > points[i - 1]!),
  'cut points must be strictly ascending',
);

/** Bytes per unit of a memory size, as DuckDB reads them: KB = 1000 bytes, KiB = 1024. */
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };
const SIZE = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i;

/** The bytes of a size such as `3GB`, `512MB` or `3GiB`; null when it is not one. */
export function sizeInBytes(text: string): number | null {
  const match = SIZE.exec(text);
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  return unit === undefined ? null : Number(match![1]) * unit;
}

/** DuckDB cannot open a connection with less (it fails at 1 KiB). */
const MIN_MEMORY_LIMIT = 1e6;
const memorySize = string()
  .refine((text) => sizeInBytes(text) !== null, 'expected a size such as 3GB, 512MB or 3GiB')
  .refine((text) => (sizeInBytes(text) ?? MIN_MEMORY_LIMIT) >= MIN_MEMORY_LIMIT, 'at least 1MB');

/** The memory this process may use: the machine's, or less in a container with a memory limit. */
const machineMemory = () => Math.min(totalmem(), process.constrainedMemory?.() || Number.POSITIVE_INFINITY);

/**
 * --memory-limit when none is given: the memory a run may use, of which
 * DuckDB's buffer pool gets 70% (engine/duckdb BUFFER_POOL_SHARE) and the
 * rest covers DuckDB's allocations outside the pool and Node's data. 1 GiB
 * is set aside for Node itself and the CLV worker, and the run gets 75% of
 * the rest (DuckDB's pool then 52.5% of it): the other
 * quarter stays for the page cache the inputs are read through and for the
 * other jobs of a shared machine. Never under 256 MiB; whole MiB, so it reads well.
 */
export function defaultMemoryLimit(memory = machineMemory()): string {
  return `${Math.max(256, Math.floor((0.75 * (memory - 2 ** 30)) / 2 ** 20))}MiB`;
}

/** How long a command waits, by default, for another process to let go of the history database (a run holds it while it records itself, a second or two). */
export const DEFAULT_DB_WAIT_SECONDS = 30;

/** Runs whose customer scores the history keeps by default: a quarter of nightly runs, without growing ~76 bytes per customer every night for ever. */
export const DEFAULT_KEEP_RUNS = 90;

export const columnMappingSchema = object({
  customer: string().min(1).optional(),
  date: string().min(1).optional(),
  amount: string().min(1).optional(),
  order: string().min(1).optional(),
  quantity: string().min(1).optional(),
}).strict();

export const scoreConfigSchema = object({
  inputs: array(string().min(1)).default([]),
  /** Transactions already in the PostgreSQL database (schema.table), read there instead of input files. */
  sourceTable: string().min(1).optional(),
  /** The engine: duckdb (embedded, the default), postgres (the PG* variables) or a postgres:// URL. */
  engine: string().min(1).optional(),
  /** PostgreSQL: the schema that holds crm's tables (default crm). */
  schema: string().min(1).max(63).optional(),
  out: string().min(1).default('crm-out'),
  // ':memory:' would keep the history nowhere (DuckDB's name for no file).
  db: string().min(1).refine((db) => !/^:memory:/i.test(db), 'the run history needs a database file (or --no-db to keep none)').optional(),
  noDb: boolean().default(false),
  /** Seconds to wait while another process holds the history database. */
  dbWait: number().min(0).default(DEFAULT_DB_WAIT_SECONDS),
  /** The customer table's formats; `none` alone writes no customer file, the scores kept in the run history only. */
  format: array(enumOf([...TABLE_FORMATS, 'none']))
    .min(1)
    .default(['parquet', 'csv'])
    .refine((formats) => !formats.includes('none') || formats.length === 1, 'none writes no customer file: give it alone, not with other formats')
    .transform((formats) => formats.filter((f): f is (typeof TABLE_FORMATS)[number] => f !== 'none')),
  columns: columnMappingSchema.default({}),
  delimiter: string().min(1).refine(isReadableDelimiter, DELIMITER_RULE).optional(),
  header: enumOf(['auto', 'yes', 'no']).default('auto'),
  dateFormat: string().min(1).optional(),
  /** The decimal mark of amounts written as text: '.' (12.50) or ',' (12,50, as in many European exports). */
  decimalSeparator: enumOf(['.', ',']).default('.'),
  timezone: timeZone.default('UTC'),
  asOf: isoDate.optional(),
  maxRejectRate: number().min(0).max(1).optional(),
  rfm: object({
    method: enumOf(['quantile', 'ntile', 'fixed']).default('quantile'),
    /** For `fixed`: recency in days (ascending; ≤ first cut scores 5), frequency in orders and monetary in revenue (≥ last cut scores 5). */
    thresholds: object({ recency: cutPoints, frequency: cutPoints, monetary: cutPoints }).strict().optional(),
    segmentMap: string().min(1).optional(),
  })
    .strict()
    .refine((r) => r.method !== 'fixed' || r.thresholds !== undefined, {
      message: 'method "fixed" needs thresholds with recency, frequency and monetary cut points (4 each)',
      path: ['thresholds'],
    })
    .default({ method: 'quantile' }),
  clv: object({
    enabled: boolean().default(true),
    /** auto: fit all three, keep the lowest AIC (or, with holdoutDays, the lowest holdout error). */
    model: enumOf(CLV_MODELS).default('bgnbd'),
    timeUnit: enumOf(['day', 'week', 'month']).default('week'),
    horizonMonths: number().int().min(1).max(600).default(12),
    discountRate: number().min(0).max(1).default(0.01),
    margin: number().min(0).max(1).default(1),
    penalty: number().min(0).default(0),
    /** Fit on all but the last N days before the as-of date and compare with those days (summary clv.holdout); auto then chooses by that error. */
    holdoutDays: number().int().min(1).optional(),
    /** Parameter draws behind clv_low / clv_high (0: no intervals; default: models/clvIntervals.ts defaultDrawCount). */
    draws: number().int().min(0).max(10_000).optional(),
    /** Seed of the draws (--seed sets it with k-means' seed). */
    seed: number().int().min(0).default(42),
  })
    .strict()
    .default({ enabled: true, model: 'bgnbd', timeUnit: 'week', horizonMonths: 12, discountRate: 0.01, margin: 1, penalty: 0, seed: 42 }),
  lifecycle: object({
    enabled: boolean().default(true),
    /** recency / typical gap above which a customer is overdue (at_risk). */
    atRiskRatio: number().positive().default(1.5),
    /** recency / typical gap above which a customer has lapsed. */
    lapsedRatio: number().positive().default(3),
    /** recency / typical gap above which a customer is lost. */
    lostRatio: number().positive().default(6),
    /** purchase days at or above which an on-rhythm customer is loyal. */
    loyalMinOrders: number().int().min(2).default(4),
    /** P(alive) below which an otherwise on-rhythm repeat customer is at risk. */
    atRiskPAlive: number().min(0).max(1).default(0.5),
    /** P(alive) below which a customer is lost whatever the gap says. */
    lostPAlive: number().min(0).max(1).default(0.1),
  })
    .strict()
    .refine((l) => l.atRiskRatio < l.lapsedRatio && l.lapsedRatio < l.lostRatio, 'need atRiskRatio < lapsedRatio < lostRatio')
    .default({ enabled: true, atRiskRatio: 1.5, lapsedRatio: 3, lostRatio: 6, loyalMinOrders: 4, atRiskPAlive: 0.5, lostPAlive: 0.1 }),
  kmeans: object({
    enabled: boolean().default(true),
    k: union([number().int().min(1).max(50, 'at most 50 clusters'), literal('auto')]).default(5),
    seed: number().int().min(0).default(42),
    restarts: number().int().min(1).max(100).default(4),
    sampleSize: number().int().min(10).default(20_000),
    useClv: boolean().default(false),
  })
    .strict()
    .default({ enabled: true, k: 5, seed: 42, restarts: 4, sampleSize: 20_000, useClv: false }),
  /** Keep the scores of this many newest runs in the database, or "all"; older runs keep their row in runs (counts, options). */
  keepRuns: union([number().int().min(1), literal('all')], { error: 'expected a whole number of runs from 1, or "all"' }).default(DEFAULT_KEEP_RUNS),
  threads: number().int().min(1).optional(),
  /** Per-customer features computed in this many passes, each over a share of the customers (default: as the engine's memory needs, src/engine). */
  customerBuckets: number().int().min(1).max(1024, 'at most 1024 buckets').optional(),
  /** The memory the run may use (DuckDB's buffer pool gets 70% of it, beyond which it spills to the run's spill folder). */
  memoryLimit: memorySize.default(() => defaultMemoryLimit()),
  /** Where the run's spill folder goes (default: the system temporary folder, TMPDIR). */
  tempDir: string().min(1).optional(),
  /** customers.csv text starting with = + - @ (a spreadsheet formula) gets a leading ' (src/io/writers.ts excelSafeQuery). */
  excelSafe: boolean().default(true),
}).strict();

export type ScoreConfig = output<typeof scoreConfigSchema>;
export type ColumnMapping = output<typeof columnMappingSchema>;
