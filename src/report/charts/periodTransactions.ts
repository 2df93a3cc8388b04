import type { TopLevelSpec } from 'vega-lite';
import type { ReportData } from '../data.js';
import { fmt, PALETTE, SI, spec, tipEncoding } from './config.js';

const SERIES = ['Actual', 'Model'];

/** Customers by repeat purchases in the calibration period, actual beside expected (lifetimes' plot_period_transactions). */
export function periodTransactionsSpec(rows: NonNullable<ReportData['periodTransactions']>): TopLevelSpec {
  const order = rows.map((r) => r.repeatPurchases);
  const values = rows.flatMap((r) => [
    { repeatPurchases: r.repeatPurchases, series: SERIES[0], customers: r.actual, tip: `${r.repeatPurchases} repeat purchases: ${fmt.int(r.actual)} customers` },
    ...(r.expected === null
      ? []
      : [{ repeatPurchases: r.repeatPurchases, series: SERIES[1], customers: r.expected, tip: `${r.repeatPurchases} repeat purchases: ${r.expected.toFixed(1)} customers expected by the model` }]),
  ]);
  return spec({
    description: 'Customers by number of repeat purchases in the calibration period, actual and expected',
    width: 440,
    height: 260,
    data: { values },
    mark: { type: 'bar', cornerRadiusEnd: 2 },
    encoding: {
      x: { field: 'repeatPurchases', type: 'ordinal', sort: order, title: 'Repeat purchases', axis: { labelAngle: 0 } },
      xOffset: { field: 'series', type: 'nominal', sort: SERIES },
      y: { field: 'customers', type: 'quantitative', title: 'Customers', axis: SI },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        scale: { domain: SERIES, range: [PALETTE.secondary, PALETTE.primary] },
        legend: { orient: 'top', direction: 'horizontal' },
      },
      ...tipEncoding,
    },
  });
}
