import type { TopLevelSpec } from 'vega-lite';
import type { ReportData } from '../data.js';
import { contrastText, fmt, PALETTE, spec, tipEncoding } from './config.js';

/** R×F heatmap: customers as colour, count and mean revenue as text. */
export function rfmHeatmapSpec(cells: ReportData['rfmHeatmap']): TopLevelSpec {
  const scores = [1, 2, 3, 4, 5];
  const byCell = new Map(cells.map((c) => [`${c.r}:${c.f}`, c]));
  const values = scores.flatMap((r) =>
    scores.map((f) => {
      const c = byCell.get(`${r}:${f}`);
      const customers = c?.customers ?? 0;
      const meanRevenue = c?.meanRevenue ?? 0;
      const tip = `R ${r} · F ${f}: ${fmt.int(customers)} customers` + (customers > 0 ? `, mean revenue ${fmt.amount(meanRevenue)}` : '');
      return { r, f, customers, meanRevenue, tip };
    }),
  );
  const x = { field: 'f', type: 'ordinal', title: 'Frequency score (F)', scale: { domain: scores }, axis: { labelAngle: 0 } };
  const y = { field: 'r', type: 'ordinal', title: 'Recency score (R)', scale: { domain: [...scores].reverse() } };
  return spec({
    description: 'Customers by recency and frequency score',
    width: 380,
    height: 300,
    data: { values },
    transform: [{ joinaggregate: [{ op: 'max', field: 'customers', as: 'maxCustomers' }] }],
    encoding: { x, y },
    layer: [
      {
        mark: { type: 'rect', stroke: '#ffffff', strokeWidth: 2, cornerRadius: 2 },
        encoding: {
          color: {
            condition: { test: 'datum.customers <= 0', value: PALETTE.empty },
            field: 'customers',
            type: 'quantitative',
            title: 'Customers',
            scale: { scheme: PALETTE.sequential, zero: true },
            legend: { format: ',d', gradientLength: 200 },
          },
          ...tipEncoding,
        },
      },
      {
        transform: [{ filter: 'datum.customers > 0' }],
        mark: { type: 'text', fontSize: 12, fontWeight: 600, dy: -7, aria: false },
        encoding: { text: { field: 'customers', type: 'quantitative', format: ',d' }, color: contrastText('customers', 'maxCustomers') },
      },
      {
        transform: [{ filter: 'datum.customers > 0' }, { calculate: "'avg ' + format(datum.meanRevenue, ',.0f')", as: 'avgLabel' }],
        mark: { type: 'text', fontSize: 10, dy: 8, aria: false },
        encoding: { text: { field: 'avgLabel', type: 'nominal' }, color: contrastText('customers', 'maxCustomers') },
      },
    ],
  });
}
