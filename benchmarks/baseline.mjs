#!/usr/bin/env node
// The bare DuckDB baseline that `crm score` is measured against: read the
// transactions, group by customer, three NTILE(5), write Parquet. Nothing else
// (no validation, rejects, deciles, segments or history).
//
//   node benchmarks/baseline.mjs <transactions.csv|parquet> <out.parquet> [--memory-limit SIZE] [--temp-dir DIR]
//
// --memory-limit and --temp-dir set DuckDB's memory_limit and where it spills
// (its defaults: 80% of RAM, and .tmp in the working directory), so the
// baseline can run under the bound crm runs under (benchmarks/scale.mjs).
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';

const { values, positionals } = parseArgs({
  options: { 'memory-limit': { type: 'string' }, 'temp-dir': { type: 'string' } },
  allowPositionals: true,
});
const [input, output] = positionals;
if (!input || !output) {
  process.stderr.write('usage: node benchmarks/baseline.mjs <input> <out.parquet> [--memory-limit SIZE] [--temp-dir DIR]\n');
  process.exit(2);
}
const q = (s) => `'${s.replaceAll("'", "''")}'`;
const reader = input.endsWith('.parquet') ? `read_parquet(${q(input)})` : `read_csv(${q(input)})`;
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
if (values['memory-limit']) await connection.run(`SET memory_limit = ${q(values['memory-limit'])}`);
if (values['temp-dir']) await connection.run(`SET temp_directory = ${q(values['temp-dir'])}`);
await connection.run(`
COPY (
  WITH per_customer AS (
    SELECT customer_id, max(order_date) AS last_purchase, count(DISTINCT order_date) AS orders, sum(amount) AS revenue
    FROM ${reader} GROUP BY customer_id
  )
  SELECT customer_id, last_purchase, orders, revenue,
         ntile(5) OVER (ORDER BY last_purchase) AS r_score,
         ntile(5) OVER (ORDER BY orders) AS f_score,
         ntile(5) OVER (ORDER BY revenue) AS m_score
  FROM per_customer ORDER BY customer_id
) TO ${q(output)} (FORMAT parquet)`);
connection.closeSync();
instance.closeSync();
