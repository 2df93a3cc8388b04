import type { TopLevelSpec } from 'vega-lite';
import { SEGMENT_NAMES } from '../../config/lists.js';
import type { ReportData } from '../data.js';
import { fmt, orderedDomain, PALETTE, spec, tipEncoding } from './config.js';

/** Share of customers vs share of revenue per named segment. */
export function segmentsSpec(segments: ReportData['segments']): TopLevelSpec {
  const order = orderedDomain(
    segments.map((s) => s.segment),
    SEGMENT_NAMES,
  );
  const measures = ['Share of customers', 'Share of revenue'];
  const values = segments.flatMap((s) => [
    {
      segment: s.segment,
      measure: measures[0],
      share: s.customerShare,
      tip: `${s.segment}: ${fmt.int(s.customers)} customers (${fmt.pct(s.customerShare)} of customers)`,
    },
    {
      segment: s.segment,
      measure: measures[1],
      share: s.revenueShare,
      tip: `${s.segment}: revenue ${fmt.amount(s.revenue)} (${fmt.pct(s.revenueShare)} of revenue)`,
    },
  ]);
  const maxShare = Math.max(0.05, ...values.map((v) => v.share));
  return spec({
    description: 'Share of customers and of revenue per RFM segment',
    width: 420,
    height: Math.max(120, order.length * 30),
    data: { values },
    encoding: {
      y: { field: 'segment', type: 'nominal', sort: order, title: null, axis: { labelFontSize: 11, ticks: false, domain: false } },
      yOffset: { field: 'measure', type: 'nominal', sort: measures },
      x: {
        field: 'share',
        type: 'quantitative',
        title: 'Share of total',
        axis: { format: '.0%', tickCount: 5 },
        scale: { domain: [0, Math.min(1, Math.ceil((maxShare * 1.15) / 0.05) * 0.05)] },
      },
    },
    layer: [
      {
        mark: { type: 'bar', cornerRadiusEnd: 2, height: { band: 0.85 } },
        encoding: {
          color: {
            field: 'measure',
            type: 'nominal',
            title: null,
            scale: { domain: measures, range: [PALETTE.secondary, PALETTE.primary] },
            legend: { orient: 'top', direction: 'horizontal' },
          },
          ...tipEncoding,
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 3, fontSize: 10, color: PALETTE.muted, aria: false },
        encoding: { text: { field: 'share', type: 'quantitative', format: '.1%' } },
      },
    ],
  });
}
