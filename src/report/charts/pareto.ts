import type { TopLevelSpec } from 'vega-lite';
import type { ReportData } from '../data.js';
import { fmt, PALETTE, spec, tipEncoding } from './config.js';

/** Pareto (Lorenz-style) curve from the value deciles. */
export function paretoSpec(deciles: ReportData['deciles']): TopLevelSpec {
  const sorted = [...deciles].sort((a, b) => a.decile - b.decile);
  const totalCustomers = sorted.reduce((s, d) => s + d.customers, 0) || 1;
  let cum = 0;
  const points = [{ decile: 0, customerShare: 0, cumulativeShare: 0, tip: 'Start' }];
  for (const d of sorted) {
    cum += d.customers;
    const customerShare = cum / totalCustomers;
    points.push({
      decile: d.decile,
      customerShare,
      cumulativeShare: d.cumulativeShare,
      tip: `Decile ${d.decile}: ${fmt.pct(d.share)} of revenue; top ${fmt.pct(customerShare)} of customers bring ${fmt.pct(d.cumulativeShare)}`,
    });
  }
  const top20 = points.find((p) => p.decile === 2);
  const x = { field: 'customerShare', type: 'quantitative', title: 'Share of customers (ranked by revenue)', axis: { format: '.0%', tickCount: 10 }, scale: { domain: [0, 1] } };
  const y = { field: 'cumulativeShare', type: 'quantitative', title: 'Cumulative share of revenue', axis: { format: '.0%', tickCount: 5 }, scale: { domain: [0, 1] } };
  const layers: Record<string, unknown>[] = [
    {
      data: { values: [{ customerShare: 0, cumulativeShare: 0 }, { customerShare: 1, cumulativeShare: 1 }] },
      mark: { type: 'line', color: PALETTE.axis, strokeDash: [4, 4], strokeWidth: 1, aria: false },
      encoding: { x, y },
    },
    {
      data: { values: points },
      mark: { type: 'area', color: PALETTE.primary, opacity: 0.08, aria: false },
      encoding: { x, y },
    },
    {
      data: { values: points },
      mark: { type: 'line', color: PALETTE.primary, strokeWidth: 2.5, aria: false },
      encoding: { x, y },
    },
    {
      data: { values: points.filter((p) => p.decile > 0) },
      mark: { type: 'point', filled: true, size: 44, color: PALETTE.primary, opacity: 1 },
      encoding: { x, y, ...tipEncoding },
    },
  ];
  if (top20) {
    const label = `Top ${Math.round(top20.customerShare * 100)}% of customers → ${Math.round(top20.cumulativeShare * 100)}% of revenue`;
    layers.push({
      data: { values: [{ customerShare: top20.customerShare, cumulativeShare: top20.cumulativeShare, label }] },
      mark: { type: 'text', align: 'left', dx: 10, dy: 12, fontSize: 11, fontWeight: 600, color: PALETTE.text, aria: false },
      encoding: { x, y, text: { field: 'label', type: 'nominal' } },
    });
  }
  return spec({ description: 'Cumulative share of revenue by share of customers', width: 440, height: 300, layer: layers });
}
