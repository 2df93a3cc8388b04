import type { TopLevelSpec } from 'vega-lite';
import type { ReportData } from '../data.js';
import { fmt, PALETTE, SI, spec, tipEncoding } from './config.js';

/**
 * Predicted CLV on a log axis, bins a quarter of a decade wide: the long tail
 * gets bins of its own instead of one clipped top bar, and every bar's
 * tooltip gives the lowest and highest CLV it really holds. Customers below
 * the lowest bin (CLV 0 included) are a grey bar of their own, named as such.
 */
export function clvSpec(distribution: NonNullable<ReportData['clvDistribution']>): TopLevelSpec {
  const bins = [...distribution.bins].sort((a, b) => a.binStart - b.binStart);
  const values = bins.map((b) => ({
    binStart: b.binStart,
    binEnd: b.binEnd,
    customers: b.customers,
    kind: 'bin',
    tip: `CLV ${fmt.amount(b.binStart)} – ${fmt.amount(b.binEnd)}: ${fmt.int(b.customers)} customers (lowest ${fmt.amount(b.minClv)}, highest ${fmt.amount(b.maxClv)})`,
  }));
  const below = distribution.below;
  const lowest = below ? below.edge / 10 ** 0.5 : (bins[0]?.binStart ?? 1);
  if (below) {
    values.unshift({
      binStart: lowest,
      binEnd: below.edge,
      customers: below.customers,
      kind: 'below',
      tip: `CLV under ${fmt.amount(below.edge)} (0 included): ${fmt.int(below.customers)} customers`,
    });
  }
  const highest = bins.length ? bins[bins.length - 1].binEnd : 10;
  const decades: number[] = [];
  for (let k = Math.ceil(Math.log10(lowest) - 1e-9); k <= Math.floor(Math.log10(highest) + 1e-9); k++) decades.push(10 ** k);
  return spec({
    description: 'Distribution of predicted customer lifetime value on a log scale',
    width: 440,
    height: 260,
    data: { values },
    mark: { type: 'rect', stroke: '#ffffff', strokeWidth: 1 },
    encoding: {
      x: {
        field: 'binStart',
        type: 'quantitative',
        title: 'Predicted CLV (log scale)',
        scale: { type: 'log', domain: [lowest, highest], nice: false },
        axis: { values: decades, format: ',~g', grid: false },
      },
      x2: { field: 'binEnd' },
      y: { field: 'customers', type: 'quantitative', title: 'Customers', axis: SI },
      color: {
        field: 'kind',
        type: 'nominal',
        legend: null,
        scale: { domain: ['bin', 'below'], range: [PALETTE.primary, PALETTE.secondary] },
      },
      ...tipEncoding,
    },
  });
}
