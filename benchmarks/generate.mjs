#!/usr/bin/env node
// Deterministic synthetic transactions for benchmarks, generated with DuckDB
// SQL only (no per-row JavaScript).
//
//   node benchmarks/generate.mjs [--rows N=10000000] [--customers C=1000000]
//                                [--seed S=42] [--out benchmarks/data]
//                                [--formats csv,parquet,dirty] [--memory-limit SIZE]
//
// Writes OUT/transactions.csv (header customer_id,order_date,amount) and
// OUT/transactions.parquet with the same rows in the same order (by
// order_date, then customer_id), and OUT/transactions-dirty.csv: the CSV with
// a few bad rows spread through it (DIRTY_ROWS: a missing customer id, an
// unparseable date, a non-numeric and a missing amount, each a few times),
// for timing the path of a file with rejects. Each file is written under a
// temporary name and renamed into place.
//
// --formats parquet writes the Parquet file alone, straight from the sorted
// rows (DuckDB's sort spills), without holding them in a table: the form the
// scale files (100M, 1B rows; benchmarks/scale.mjs) are made in. The rows are
// the same as with every format. --memory-limit bounds DuckDB while it
// generates (its default is 80% of RAM).
//
// The data (all randomness is a hash of (customer, row-of-customer, seed,
// purpose), never random(), so the same arguments give the same files with
// the same DuckDB version):
// - customer ids are text `C` + the number zero-padded to 7 digits
//   (more when C ≥ 10^7): C0000001 … ; every customer 1..C has ≥ 1 row;
// - about 60% of customers are one-time buyers (55% by draw, plus repeat draws too light to get a second row); the rest share the other
//   N − C rows by a heavy-tailed (Pareto, α = 1.2, capped) weight, so most
//   repeat buyers have a few orders and a few have hundreds or thousands;
// - dates span 2024-01-01 … 2025-12-31; first purchases lean recent (a
//   growing business), later ones fall in each customer's active span
//   (exponential, mean 300 days), so some customers are lapsed;
// - amounts are log-normal (customer level × row noise), 2 decimals; about 2%
//   of rows are negative refunds (never a customer's first row).
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';

const START = '2024-01-01';
const DAYS = 731; // 2024-01-01 … 2025-12-31 inclusive
const ONE_TIME_SHARE = 0.55;
const REFUND_SHARE = 0.02;
const PARETO_ALPHA = 1.2;
const WEIGHT_CAP = 2_000; // caps the heaviest customer's weight (× the scale below)
const WEIGHT_SCALE = 1_000; // integer weights: exact, order-independent sums
const ACTIVE_SPAN_MEAN_DAYS = 300;
// The bad rows of transactions-dirty.csv (customer_id, order_date, amount as written), each put in DIRTY_COPIES times.
const DIRTY_ROWS = [
  ['', '2024-05-01', '7.50'],
  ['C0000001', 'not-a-date', '5.00'],
  ['C0000002', '2024-06-01', 'n/a'],
  ['C0000003', '2024-07-01', ''],
];
const DIRTY_COPIES = 3;

function usage(message) {
  process.stderr.write(
    `${message}\nusage: node benchmarks/generate.mjs [--rows N] [--customers C] [--seed S] [--out DIR] [--formats csv,parquet,dirty] [--memory-limit SIZE]\n`,
  );
  process.exit(2);
}

function parseIntegerOption(values, name, fallback, min) {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const text = String(raw).replaceAll('_', '');
  if (!/^-?\d+$/.test(text)) usage(`--${name} must be an integer, got "${raw}"`);
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) usage(`--${name} must be an integer ≥ ${min}, got "${raw}"`);
  return value;
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      rows: { type: 'string' },
      customers: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      formats: { type: 'string' },
      'memory-limit': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
} catch (error) {
  usage(error.message);
}
if (parsed.values.help) {
  process.stdout.write(
    'usage: node benchmarks/generate.mjs [--rows N=10000000] [--customers C=1000000] [--seed S=42] [--out benchmarks/data] [--formats csv,parquet,dirty] [--memory-limit SIZE]\n',
  );
  process.exit(0);
}
const rows = parseIntegerOption(parsed.values, 'rows', 10_000_000, 1);
const customers = parseIntegerOption(parsed.values, 'customers', 1_000_000, 1);
const seed = parseIntegerOption(parsed.values, 'seed', 42, -(2 ** 53) + 1);
const outDir = resolve(parsed.values.out ?? 'benchmarks/data');
const FORMATS = ['csv', 'parquet', 'dirty'];
const formats = new Set((parsed.values.formats ?? FORMATS.join(',')).split(',').map((f) => f.trim()));
for (const f of formats) if (!FORMATS.includes(f)) usage(`--formats takes ${FORMATS.join(', ')}; got "${f}"`);
const memoryLimit = parsed.values['memory-limit'];
if (memoryLimit !== undefined && !/^\d+(\.\d+)?\s*[KMGT]i?B$/i.test(memoryLimit)) usage(`--memory-limit expects a size such as 4GB, got "${memoryLimit}"`);
// Only Parquet: the rows are not kept in a table, and the checks read them back from the file.
const parquetOnly = formats.size === 1 && formats.has('parquet');
if (rows < customers) usage(`--rows (${rows}) must be ≥ --customers (${customers}): every customer has at least one row`);

const idWidth = Math.max(7, String(customers).length);
const extraRows = rows - customers;
// Refunds only on a customer's later rows, so scale their rate to hit ~2% overall.
const refundRate = extraRows > 0 ? Math.min(1, (REFUND_SHARE * rows) / extraRows) : 0;
// Purpose numbers of the random streams (z() uses 2p and 2p + 1).
const P = { repeat: 1, weight: 2, first: 3, span: 4, day: 5, refund: 6, level: 10, amount: 12 };
const sqlString = (s) => `'${s.replaceAll("'", "''")}'`;

const started = performance.now();
mkdirSync(outDir, { recursive: true });
const csvPath = join(outDir, 'transactions.csv');
const parquetPath = join(outDir, 'transactions.parquet');
const dirtyPath = join(outDir, 'transactions-dirty.csv');
const csvTmp = `${csvPath}.tmp-${process.pid}`;
const parquetTmp = `${parquetPath}.tmp-${process.pid}`;
const dirtyTmp = `${dirtyPath}.tmp-${process.pid}`;

const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
if (memoryLimit !== undefined) await connection.run(`SET memory_limit = ${sqlString(memoryLimit)}`);
// DuckDB spills (the sort of the rows, on large files) beside the output, not into .tmp in the working directory.
const spillDir = join(outDir, `.generate-spill-${process.pid}`);
await connection.run(`SET temp_directory = ${sqlString(spillDir)}`);
const run = (sql) => connection.run(sql);
const one = async (sql) => (await connection.runAndReadAll(sql)).getRowObjectsJS()[0];

try {
  // u(a, b, purpose): uniform on (0, 1) from a 64-bit hash of (a, b, seed),
  // re-hashed with the purpose number. The outer hash matters: DuckDB's
  // multi-argument hash() combines its arguments weakly, so hash(a, b, seed,
  // 'x') and hash(a, b, seed, 'y') are strongly correlated; hashing the
  // combined value again (a full avalanche mix) makes every purpose an
  // independent stream. z(): standard normal by Box–Muller.
  await run(`
    CREATE TEMP MACRO u(a, b, purpose) AS
      ((hash(xor(hash(a::BIGINT, b::BIGINT, ${seed}::BIGINT), purpose::UBIGINT)) >> 11)::DOUBLE + 0.5)
      / 9007199254740992.0;
    CREATE TEMP MACRO z(a, b, purpose) AS
      sqrt(-2 * ln(u(a, b, 2 * purpose))) * cos(2 * pi() * u(a, b, 2 * purpose + 1));
  `);

  // One row per customer: weight (0 = one-time buyer), first purchase day,
  // active span, amount level.
  await run(`
    CREATE TEMP TABLE customer AS
    SELECT
      c,
      CASE WHEN u(c, 0, ${P.repeat}) >= ${ONE_TIME_SHARE}
           THEN least(floor(${WEIGHT_SCALE} * (pow(u(c, 0, ${P.weight}), -1 / ${PARETO_ALPHA}) - 1)),
                      ${WEIGHT_CAP * WEIGHT_SCALE})::BIGINT
           ELSE 0 END AS w,
      floor(${DAYS} * pow(u(c, 0, ${P.first}), 0.7))::INTEGER AS first_day,
      floor(-ln(u(c, 0, ${P.span})) * ${ACTIVE_SPAN_MEAN_DAYS})::INTEGER AS span,
      3.3 + 0.6 * z(c, 0, ${P.level}) AS mu
    FROM range(1, ${customers} + 1) t(c)
  `);
  const { total_w: totalWeightRaw } = await one('SELECT coalesce(sum(w), 0)::BIGINT AS total_w FROM customer');
  if (extraRows > 0 && BigInt(totalWeightRaw) === 0n) {
    await run('UPDATE customer SET w = 1'); // tiny C: nobody drew a weight
  }

  // Rows per customer: 1 + its share of the extra rows, allocated from the
  // exact integer running sum of weights, so the counts add up to N exactly.
  await run(`
    CREATE TEMP TABLE allocation AS
    WITH running AS (
      SELECT *, sum(w) OVER (ORDER BY c ROWS UNBOUNDED PRECEDING)::HUGEINT AS cum_w,
             sum(w) OVER ()::HUGEINT AS total_w
      FROM customer
    )
    SELECT c, first_day, least(span, ${DAYS - 1} - first_day) AS span, mu,
           1 + (CASE WHEN total_w = 0 THEN 0 ELSE
                  (${extraRows}::HUGEINT * cum_w) // total_w - (${extraRows}::HUGEINT * (cum_w - w)) // total_w
                END)::BIGINT AS n_rows
    FROM running
  `);

  const rowsSql = `
    SELECT
      'C' || lpad(c::VARCHAR, ${idWidth}, '0') AS customer_id,
      DATE ${sqlString(START)} + (CASE WHEN k = 0 THEN first_day
                                      ELSE first_day + floor(u(c, k, ${P.day}) * (span + 1))::INTEGER END) AS order_date,
      ((CASE WHEN k > 0 AND u(c, k, ${P.refund}) < ${refundRate} THEN -1 ELSE 1 END)
        * greatest(0.01, round(exp(mu + 0.5 * z(c, k, ${P.amount})), 2)))::DECIMAL(12, 2) AS amount
    FROM allocation, range(n_rows) r(k)
    ORDER BY order_date, c, k`;
  const parquetOptions = '(FORMAT parquet, COMPRESSION zstd)';
  if (parquetOnly) {
    await run(`COPY (${rowsSql}) TO ${sqlString(parquetTmp)} ${parquetOptions}`);
    await run(`CREATE TEMP VIEW transactions AS SELECT * FROM read_parquet(${sqlString(parquetTmp)})`);
  } else {
    await run(`CREATE TEMP TABLE transactions AS ${rowsSql}`);
  }

  if (formats.has('csv')) await run(`COPY transactions TO ${sqlString(csvTmp)} (FORMAT csv, HEADER true)`);
  if (formats.has('parquet') && !parquetOnly) await run(`COPY transactions TO ${sqlString(parquetTmp)} ${parquetOptions}`);
  // The bad rows go between rows spread evenly through the file (the table keeps its insertion order).
  const bad = DIRTY_ROWS.flatMap((row, i) =>
    Array.from({ length: DIRTY_COPIES }, (_, copy) => {
      const slot = copy * DIRTY_ROWS.length + i + 1;
      const position = Math.floor((slot * rows) / (DIRTY_ROWS.length * DIRTY_COPIES + 1)) + 0.5;
      return `(${row.map(sqlString).join(', ')}, ${position})`;
    }),
  );
  if (formats.has('dirty')) {
    await run(`
    COPY (
      SELECT customer_id, order_date, amount FROM (
        SELECT customer_id, CAST(order_date AS VARCHAR) AS order_date, CAST(amount AS VARCHAR) AS amount, row_number() OVER () AS position FROM transactions
        UNION ALL
        SELECT * FROM (VALUES ${bad.join(', ')}) b(customer_id, order_date, amount, position)
      ) ORDER BY position
    ) TO ${sqlString(dirtyTmp)} (FORMAT csv, HEADER true)`);
  }

  const facts = await one(`
    WITH per_customer AS (
      SELECT customer_id, count(DISTINCT order_date) AS orders FROM transactions GROUP BY customer_id
    )
    SELECT (SELECT count(*) FROM transactions) AS rows,
           count(*) AS customers,
           avg((orders = 1)::INTEGER) AS one_time_share,
           median(orders) AS median_orders,
           max(orders) AS max_orders,
           (SELECT avg((amount < 0)::INTEGER) FROM transactions) AS refund_share,
           (SELECT min(order_date) FROM transactions)::VARCHAR AS first_date,
           (SELECT max(order_date) FROM transactions)::VARCHAR AS last_date
    FROM per_customer
  `);
  if (Number(facts.rows) !== rows || Number(facts.customers) !== customers) {
    throw new Error(`generated ${facts.rows} rows / ${facts.customers} customers, expected ${rows} / ${customers}`);
  }

  if (formats.has('csv')) renameSync(csvTmp, csvPath);
  if (formats.has('parquet')) renameSync(parquetTmp, parquetPath);
  if (formats.has('dirty')) renameSync(dirtyTmp, dirtyPath);
  const seconds = (performance.now() - started) / 1000;
  const mb = (path) => (statSync(path).size / 1e6).toFixed(1);
  process.stdout.write(
    [
      `rows        ${rows}`,
      `customers   ${customers} (one-time buyers ${(100 * facts.one_time_share).toFixed(1)}%, median orders ${facts.median_orders}, max ${facts.max_orders})`,
      `refunds     ${(100 * facts.refund_share).toFixed(2)}% of rows`,
      `dates       ${facts.first_date} … ${facts.last_date}`,
      ...(formats.has('csv') ? [`csv         ${csvPath} ${mb(csvPath)} MB`] : []),
      ...(formats.has('parquet') ? [`parquet     ${parquetPath} ${mb(parquetPath)} MB`] : []),
      ...(formats.has('dirty') ? [`dirty csv   ${dirtyPath} ${mb(dirtyPath)} MB (${DIRTY_ROWS.length * DIRTY_COPIES} bad rows)`] : []),
      `seconds     ${seconds.toFixed(1)}`,
      '',
    ].join('\n'),
  );
} catch (error) {
  rmSync(csvTmp, { force: true });
  rmSync(parquetTmp, { force: true });
  rmSync(dirtyTmp, { force: true });
  process.stderr.write(`generate failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  connection.closeSync();
  instance.closeSync();
  rmSync(spillDir, { recursive: true, force: true });
}
