import type { TopLevelSpec } from 'vega-lite';
import { LIFECYCLE_STAGES } from '../../config/lists.js';
import type { ReportData } from '../data.js';
import { fmt, orderedDomain, PALETTE, SI, spec, tipEncoding } from './config.js';

/** Lifecycle funnel: horizontal bars in stage order. */
export function lifecycleSpec(stages: NonNullable<ReportData['stages']>): TopLevelSpec {
  const label = (s: string) => s.replace(/_/g, ' ');
  const order = orderedDomain(
    stages.map((s) => s.stage),
    LIFECYCLE_STAGES,
  );
  const values = stages.map((s) => ({
    ...s,
    stageLabel: label(s.stage),
    text: `${fmt.int(s.customers)} · ${fmt.pct(s.share)}`,
    tip: `${label(s.stage)}: ${fmt.int(s.customers)} customers (${fmt.pct(s.share)}), revenue ${fmt.amount(s.revenue)}`,
  }));
  const maxCustomers = Math.max(1, ...stages.map((s) => s.customers));
  return spec({
    description: 'Customers per lifecycle stage',
    width: 440,
    height: Math.max(100, order.length * 34),
    data: { values },
    encoding: {
      y: { field: 'stageLabel', type: 'nominal', sort: order.map(label), title: null, axis: { ticks: false, domain: false, labelFontSize: 12 } },
      x: { field: 'customers', type: 'quantitative', title: 'Customers', axis: SI, scale: { domain: [0, maxCustomers * 1.3], nice: false } },
    },
    layer: [
      {
        mark: { type: 'bar', cornerRadiusEnd: 3, height: { band: 0.75 } },
        encoding: {
          color: {
            field: 'stageLabel',
            type: 'nominal',
            legend: null,
            scale: { domain: order.map(label), range: order.map((s) => PALETTE.stages[s] ?? PALETTE.secondary) },
          },
          ...tipEncoding,
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 11, color: PALETTE.text, aria: false },
        encoding: { text: { field: 'text', type: 'nominal' } },
      },
    ],
  });
}
