/**
 * The features stage in buckets of customers (DESIGN §7), on every engine:
 * customer_features computed in 5 passes, each over the customers of one
 * bucket, holds exactly the rows of one pass over them all, whichever way the
 * occasions are made (one file of customer days, two files, order ids). A
 * bucket that kept every customer, or the same customers each time, would
 * give a different set of rows.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { Engine, Ingested } from '../../../src/engine/Engine.js';
import { computeFeatures, dropOccasions } from '../../../src/stages/features/stage.js';
import { describeEachEngine } from '../../engines.js';
import { config, tempDir } from '../../helpers.js';

const NOW = new Date('2024-06-30T12:00:00Z');
const AS_OF = '2024-05-31';
const CUSTOMERS = 60;

/**
 * Rows for CUSTOMERS customers: each buys on a few days, twice on some days
 * (two orders), with a refund now and then and a day after the as-of date.
 */
function transactionLines(withOrders: boolean, part: (customer: number) => boolean): string[] {
  const lines = [withOrders ? 'customer_id,order_date,amount,order_id' : 'customer_id,order_date,amount'];
  for (let c = 0; c < CUSTOMERS; c++) {
    if (!part(c)) continue;
    for (let d = 0; d <= c % 7; d++) {
      const day = `2024-0${1 + ((c + d) % 5)}-${String(1 + ((c * 3 + d * 5) % 28)).padStart(2, '0')}`;
      const amount = d === 3 ? -(5 + (c % 4)) : 10 + ((c * 7 + d) % 40);
      for (let order = 0; order < 1 + ((c + d) % 2); order++) {
        const row = [`cust-${String(c).padStart(3, '0')}`, day, String(amount + order)];
        lines.push((withOrders ? [...row, `o-${c}-${d}-${order}`] : row).join(','));
      }
    }
    // After the as-of date: in no feature.
    if (c % 5 === 0) lines.push([`cust-${String(c).padStart(3, '0')}`, '2024-06-15', '99', ...(withOrders ? [`o-${c}-late`] : [])].join(','));
  }
  return lines;
}

const CASES = [
  { name: 'one file, orders are days (occasions are a view of the customer days)', files: [{ withOrders: false, part: () => true }] },
  {
    name: 'two files (occasions summed per day)',
    files: [
      { withOrders: false, part: (c: number) => c % 3 !== 0 },
      { withOrders: false, part: (c: number) => c % 2 === 0 },
    ],
  },
  { name: 'order ids (occasions are orders, the purchase days a second aggregate)', files: [{ withOrders: true, part: () => true }] },
];

describeEachEngine('customer features in buckets of customers', import.meta.url, (under) => {
  for (const example of CASES) {
    it(`${example.name}: 5 buckets give the rows of 1`, async () => {
      const engine = under.engine() as Engine;
      const dir = await tempDir('crm-buckets-');
      const files: string[] = [];
      for (const [i, file] of example.files.entries()) {
        files.push(path.join(dir, `part-${i}.csv`));
        await writeFile(files[i]!, `${transactionLines(file.withOrders, file.part).join('\n')}\n`);
      }
      const order = example.files[0]!.withOrders ? 'order_id' : undefined;
      const loaded: Ingested = await engine.ingest(files, { ...config({ inputs: files, columns: { order } }), now: NOW });
      const features = async (buckets: number) => {
        const result = await computeFeatures(engine, AS_OF, loaded, { clv: true, lifecycle: true }, buckets);
        const rows = await engine.all(
          `SELECT customer_id, CAST(first_purchase AS VARCHAR) AS first_purchase, CAST(last_purchase AS VARCHAR) AS last_purchase, orders,
                  CAST(revenue AS DOUBLE PRECISION) AS revenue, recency_days, tenure_days, purchase_days,
                  CAST(first_purchase_day AS VARCHAR) AS first_purchase_day, CAST(previous_purchase_day AS VARCHAR) AS previous_purchase_day,
                  CAST(purchase_day_total AS DOUBLE PRECISION) AS purchase_day_total, CAST(first_day_amount AS DOUBLE PRECISION) AS first_day_amount
           FROM customer_features ORDER BY customer_id`,
        );
        await dropOccasions(engine, loaded);
        return { result, rows };
      };
      const once = await features(1);
      const inBuckets = await features(5);
      const customers = new Set(Array.from({ length: CUSTOMERS }, (_, c) => c).filter((c) => example.files.some((f) => f.part(c))));
      expect(once.rows).toHaveLength(customers.size);
      expect(inBuckets.result).toEqual(once.result);
      expect(inBuckets.rows).toEqual(once.rows);
      // Every bucket holds some of the customers, and no customer is in two.
      const perBucket = await engine.all<{ bucket: number; customers: number }>(
        `SELECT bucket, count(*)::INTEGER AS customers FROM (SELECT DISTINCT customer_id, ${engine.dialect.customerBucket('customer_id', 5)} AS bucket FROM customer_days) b GROUP BY bucket ORDER BY bucket`,
      );
      expect(perBucket.map((b) => Number(b.bucket))).toEqual([0, 1, 2, 3, 4]);
      expect(perBucket.reduce((sum, b) => sum + b.customers, 0)).toBe(customers.size);
      expect(Math.min(...perBucket.map((b) => b.customers))).toBeGreaterThan(0);
      await engine.dropCustomerDays(loaded);
    });
  }

  it('customerDayParts: every customer-day row in exactly one part, all of a customer\'s in the same one; released, the parts are gone', async () => {
    const engine = under.engine() as Engine;
    const file = path.join(await tempDir('crm-buckets-'), 'days.csv');
    await writeFile(file, `${transactionLines(false, () => true).join('\n')}\n`);
    const loaded = await engine.ingest([file], { ...config({ inputs: [file] }), now: NOW });
    const all = await engine.all<{ customer_id: string; order_date: string }>(`SELECT customer_id, CAST(order_date AS VARCHAR) AS order_date FROM customer_days ORDER BY 1, 2`);
    const split = await engine.customerDayParts(4);
    const seen: { customer_id: string; order_date: string; part: number }[] = [];
    for (const [part, days] of split.parts.entries()) {
      const rows = await engine.all<{ customer_id: string; order_date: string }>(`SELECT customer_id, CAST(order_date AS VARCHAR) AS order_date FROM ${days}`);
      expect(rows.length, `part ${part}`).toBeGreaterThan(0);
      seen.push(...rows.map((r) => ({ ...r, part })));
    }
    const key = (r: { customer_id: string; order_date: string }) => `${r.customer_id} ${r.order_date}`;
    expect(seen.map(key).sort()).toEqual(all.map(key).sort());
    const partsOf = new Map<string, Set<number>>();
    for (const r of seen) partsOf.set(r.customer_id, (partsOf.get(r.customer_id) ?? new Set()).add(r.part));
    expect([...partsOf.values()].filter((parts) => parts.size > 1)).toEqual([]);
    await split.release();
    if (under.name === 'duckdb') await expect(engine.all(`SELECT count(*) AS n FROM ${split.parts[0]}`)).rejects.toThrow(/No files found|does not exist/);
    await engine.dropCustomerDays(loaded);
  });
});

