/**
 * A base of CUSTOMERS customers made by the engine itself (generate_series,
 * the same SQL on every engine), for the stage tests that need more than a
 * handful of customers: customer i buys on 1 + (i mod 4) days, 20 days apart,
 * from day 30·(i mod 5) of 2023, spending 10 + 5·(i mod 7) + k on its k-th
 * day (k = 0, 1, …). Every amount is positive: no refunds.
 */
import type { QueryEngine } from '../../src/engine/Engine.js';
import { PostgresEngine } from '../../src/engine/postgres/PostgresEngine.js';

export const AS_OF = '2023-12-31';
export const CUSTOMERS = 3000;

const CUSTOMER_DAYS_SELECT = `
SELECT 'c' || CAST(i AS VARCHAR) AS customer_id,
       CAST('2023-01-01' AS DATE) + CAST((i % 5) * 30 + k * 20 AS INTEGER) AS order_date,
       CAST(NULL AS VARCHAR) AS order_id,
       CAST(10 + (i % 7) * 5 + k AS DECIMAL(18,4)) AS amount,
       CAST(1 AS BIGINT) AS rows
FROM generate_series(1, ${CUSTOMERS}) a(i) CROSS JOIN generate_series(0, 3) b(k)
WHERE k <= i % 4`;

const CUSTOMER_DAYS_COLUMNS = { customer_id: 'VARCHAR', order_date: 'DATE', order_id: 'VARCHAR', amount: 'DECIMAL(18,4)', rows: 'BIGINT' };

/** customer_days as the load leaves it (one row per customer and day): distributed by customer_id on Citus, a plain table elsewhere. */
export async function loadGeneratedCustomerDays(engine: QueryEngine): Promise<void> {
  if (engine instanceof PostgresEngine) await engine.createPerCustomerTable('customer_days', { columns: CUSTOMER_DAYS_COLUMNS, select: CUSTOMER_DAYS_SELECT });
  else await engine.run(`CREATE OR REPLACE TABLE customer_days AS ${CUSTOMER_DAYS_SELECT}`);
}
