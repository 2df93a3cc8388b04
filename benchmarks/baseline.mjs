#!/usr/bin/env node
// The bare DuckDB baseline that `crm score` is measured against: read the
// transactions, group by customer, three NTILE(5), write Parquet. Nothing else
// (no validation, rejects, deciles, segments or history).
//
//   node benchmarks/baseline.mjs <transactions.csv|parquet> <out.parquet>
import { DuckDBInstance } from '@duckdb/node-api';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  process.stderr.write('usage: node benchmarks/baseline.mjs <input> <out.parquet>\n');
  process.exit(2);
}
const q = (s) => `'${s.replaceAll("'", "''")}'`;
const reader = input.endsWith('.parquet') ? `read_parquet(${q(input)})` : `read_csv(${q(input)})`;
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
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
