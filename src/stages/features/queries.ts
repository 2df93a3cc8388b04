/**
 * Per-customer features from `customer_days`, on or before the as-of date (`$asOf`).
 *
 * A purchase occasion (an order) is one order id when an order column is
 * mapped, otherwise one customer's transactions on one calendar day. An
 * occasion whose net amount is negative (a refund) lowers revenue but is not
 * a purchase. The purchase-day summary (CLV inputs, lifecycle rhythm) is
 * gathered in the same pass: days with a net amount ≥ 0.
 */
import { withParameters, type Dialect, type RecipeStatement } from '../../engine/dialect.js';

/**
 * Where the stage reads customer days: `customer_days`, or one part of them
 * (Engine.customerDayParts, a FROM item with its columns) when the stage
 * runs bucket by bucket.
 */
const ALL_DAYS = 'customer_days';

/** Whether `days` is one part of the customer days (the stage adds to customer_features) or all of them (it makes the table). */
export interface DaysPart {
  days: string;
  first: boolean;
}

const WHOLE: DaysPart = { days: ALL_DAYS, first: true };

/**
 * Occasions. With one source and no order ids, customer_days already has one
 * row per customer and day, so it is used as it is.
 */
export const occasionsSql = (d: Dialect, byOrderId: boolean, alreadyDaily: boolean, { days }: DaysPart = WHOLE): readonly RecipeStatement[] =>
  byOrderId
    ? d.createTempTableAs(
        'occasions',
        `
SELECT customer_id, min(order_date) AS order_date, sum(amount) AS amount
FROM ${days}
WHERE order_date <= $asOf
-- Rows without an order id fall back to one occasion per day.
GROUP BY customer_id, coalesce(order_id, 'day ' || CAST(order_date AS VARCHAR))`,
      )
    : alreadyDaily
      ? // A view cannot take a bound parameter, so the as-of date comes from run_parameters.
        [
          `CREATE OR REPLACE TEMP VIEW occasions AS
         SELECT customer_id, order_date, amount FROM ${days} WHERE order_date <= (SELECT as_of FROM run_parameters)`,
        ]
      : d.createTempTableAs(
          'occasions',
          `
SELECT customer_id, order_date, sum(amount) AS amount
FROM ${days}
WHERE order_date <= $asOf
GROUP BY customer_id, order_date`,
        );

/** What the later stages need from the purchase days (net ≥ 0): CLV inputs, and for lifecycle the day before the last. */
export interface DaySummaryNeeds {
  clv: boolean;
  lifecycle: boolean;
}

/**
 * The purchase-day summary, as aggregates over purchase days (rows of
 * customer_id, order_date, amount with amount ≥ 0); each costs time, so only
 * those needed.
 */
const purchaseDayAggregates = (d: Dialect, needs: DaySummaryNeeds) =>
  [
    'count(*) AS purchase_days',
    'min(order_date) AS first_purchase_day',
    `${needs.lifecycle ? d.sql.largestTwo('order_date') : d.sql.arrayOf('max(order_date)')} AS last_purchase_days`,
    ...(needs.clv
      ? ['sum(amount) AS purchase_day_total', `${d.sql.argMin('amount', 'order_date')} AS first_day_amount`]
      : ['NULL AS purchase_day_total', 'NULL AS first_day_amount']),
  ].join(',\n         ');

const hasNeeds = (needs: DaySummaryNeeds) => needs.clv || needs.lifecycle;

const DAY_SUMMARY_COLUMNS = ['purchase_days', 'first_purchase_day', 'last_purchase_days', 'purchase_day_total', 'first_day_amount'];
const REFUND_COLUMNS = ['refunded', 'first_refund_day', 'last_refund_day'];

/**
 * One row per customer. Purchases (occasions with a net amount ≥ 0) and
 * refunds are aggregated apart, then put side by side (the dialect's
 * sideBySide): every aggregate runs on the rows it is about, where aggregates
 * over all occasions with a FILTER each
 * evaluated the filter again (a fifth of the time of the full summary). A
 * customer with refunds only still gets first and last dates (of the refunds)
 * and a revenue, with no orders.
 *
 * `last_purchase_days` is [last, second last] purchase day. When orders are
 * days, the purchases are the purchase days and one aggregate gives
 * everything; otherwise the day summary is a second aggregate over days.
 */
export const customerFeaturesSql = (d: Dialect, ordersAreDays: boolean, needs: DaySummaryNeeds, part: DaysPart = WHOLE): readonly RecipeStatement[] => {
  const select = customerFeaturesSelect(d, ordersAreDays, needs, part.days);
  // The first part makes the table, each later one adds its customers.
  return part.first ? d.createTempTableAs('customer_features', select) : [withParameters(`INSERT INTO customer_features ${select}`)];
};

const customerFeaturesSelect = (d: Dialect, ordersAreDays: boolean, needs: DaySummaryNeeds, days: string): string => {
  const inOnePass = ordersAreDays && hasNeeds(needs);
  const separateDays = !ordersAreDays && hasNeeds(needs);
  const purchaseColumns = ['orders', 'first_order_day', ...(inOnePass ? [] : ['last_order_day']), 'purchase_total', ...(inOnePass ? DAY_SUMMARY_COLUMNS : [])];
  return `
WITH purchases AS (
  SELECT customer_id,
         count(*) AS orders,
         min(order_date) AS first_order_day,
         ${inOnePass ? '' : 'max(order_date) AS last_order_day,\n         '}sum(amount) AS purchase_total${inOnePass ? `,\n         ${purchaseDayAggregates(d, needs)}` : ''}
  FROM occasions
  WHERE amount >= 0
  GROUP BY customer_id
),
refunds AS (
  SELECT customer_id, sum(amount) AS refunded, min(order_date) AS first_refund_day, max(order_date) AS last_refund_day
  FROM occasions
  WHERE amount < 0
  GROUP BY customer_id
)${
  separateDays
    ? `,
days AS (
  SELECT customer_id, ${purchaseDayAggregates(d, needs)}
  FROM (SELECT customer_id, order_date, sum(amount) AS amount FROM ${days} WHERE order_date <= $asOf GROUP BY customer_id, order_date) day_totals
  WHERE amount >= 0
  GROUP BY customer_id
)`
    : ''
},
per_customer AS (
  SELECT customer_id,
         coalesce(first_order_day, first_refund_day) AS first_purchase,
         coalesce(${inOnePass ? 'last_purchase_days[1]' : 'last_order_day'}, last_refund_day) AS last_purchase,
         coalesce(orders, 0) AS orders,
         coalesce(purchase_total, 0) + coalesce(refunded, 0) AS revenue${
           inOnePass
             ? `,
         coalesce(purchase_days, 0) AS purchase_days, first_purchase_day, last_purchase_days, purchase_day_total, first_day_amount`
             : ''
         }
  FROM ${d.sql.sideBySide({ name: 'purchases', columns: purchaseColumns }, { name: 'refunds', columns: REFUND_COLUMNS })}
)
SELECT customer_id,
       first_purchase,
       last_purchase,
       orders::BIGINT AS orders,
       revenue,
       CASE WHEN orders > 0 THEN ${d.sql.roundDouble(`CAST(revenue AS ${d.sql.double}) / orders`, 4)} END AS avg_order_value,
       (${d.daysBetween('last_purchase', '$asOf::DATE')})::BIGINT AS recency_days,
       (${d.daysBetween('first_purchase', '$asOf::DATE')})::BIGINT AS tenure_days${
         hasNeeds(needs)
           ? `,
       coalesce(purchase_days, 0)::BIGINT AS purchase_days,
       first_purchase_day,
       last_purchase_days[1] AS last_purchase_day,
       last_purchase_days[2] AS previous_purchase_day,
       purchase_day_total,
       first_day_amount`
           : ''
       }
FROM per_customer${separateDays ? ' LEFT JOIN days USING (customer_id)' : ''}`;
};

/** The run's as-of date, for views (which cannot take bound parameters). */
export const runParametersSql = (d: Dialect) => d.createTempTableAs('run_parameters', 'SELECT $asOf::DATE AS as_of');

/** Counts for summary.json. */
export const ROW_COUNTS_SQL = `
SELECT (SELECT coalesce(sum(rows), 0) FROM customer_days WHERE order_date > $asOf)::BIGINT AS excluded,
       (SELECT count(*) FROM customer_features)::BIGINT AS customers`;

/** The default as-of: the latest date on or before the day of the run, `$runDay` (a row a day after it is accepted, not the as-of). */
export const LATEST_DATE_SQL = `SELECT CAST(max(order_date) AS VARCHAR) AS as_of FROM customer_days WHERE order_date <= CAST($runDay AS DATE)`;

/** occasionsSql made a view or a table. */
export const dropOccasionsSql = (isView: boolean) => `DROP ${isView ? 'VIEW' : 'TABLE'} IF EXISTS occasions`;
