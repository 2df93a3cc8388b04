import type { TopLevelSpec } from 'vega-lite';
import type { ReportData } from '../data.js';
import { fmt, PALETTE, SI, spec, tipEncoding } from './config.js';

/** Distribution of predicted CLV (pre-binned). */
export function clvSpec(bins: NonNullable<ReportData['clvHistogram']>): TopLevelSpec {
  const values = [...bins]
    .sort((a, b) => a.binStart - b.binStart)
    .map((b) => ({ ...b, tip: `CLV ${fmt.amount(b.binStart)} – ${fmt.amount(b.binEnd)}: ${fmt.int(b.customers)} customers` }));
  return spec({
    description: 'Distribution of predicted customer lifetime value',
    width: 440,
    height: 260,
    data: { values },
    mark: { type: 'bar', color: PALETTE.primary, stroke: '#ffffff', strokeWidth: 1 },
    encoding: {
      x: { field: 'binStart', type: 'quantitative', bin: { binned: true }, title: 'Predicted CLV', axis: { ...SI, tickCount: 8 } },
      x2: { field: 'binEnd' },
      y: { field: 'customers', type: 'quantitative', title: 'Customers', axis: SI },
      ...tipEncoding,
    },
  });
}
