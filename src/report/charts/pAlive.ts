import type { TopLevelSpec } from 'vega-lite';
import type { ReportData } from '../data.js';
import { fmt, PALETTE, SI, spec, tipEncoding } from './config.js';

/** Customers by P(alive), bins of 0.05. */
export function pAliveSpec(bins: NonNullable<ReportData['pAliveHistogram']>): TopLevelSpec {
  const values = bins.map((b) => ({
    ...b,
    tip: `P(alive) ${b.binStart.toFixed(2)} – ${b.binEnd.toFixed(2)}: ${fmt.int(b.customers)} customers`,
  }));
  return spec({
    description: 'Distribution of the probability that a customer is still active',
    width: 440,
    height: 260,
    data: { values },
    mark: { type: 'bar', color: PALETTE.primary, stroke: '#ffffff', strokeWidth: 1 },
    encoding: {
      x: { field: 'binStart', type: 'quantitative', bin: { binned: true, step: 0.05 }, title: 'P(alive)', scale: { domain: [0, 1] }, axis: { format: '.1f', tickCount: 10 } },
      x2: { field: 'binEnd' },
      y: { field: 'customers', type: 'quantitative', title: 'Customers', axis: SI },
      ...tipEncoding,
    },
  });
}
