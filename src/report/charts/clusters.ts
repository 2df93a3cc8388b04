import type { TopLevelSpec } from 'vega-lite';
import type { ReportData } from '../data.js';
import { fmt, PALETTE, SI, spec, tipEncoding } from './config.js';

/** Cluster profiles: one small bar panel per mean feature. */
export function clustersSpec(clusters: NonNullable<ReportData['clusters']>): TopLevelSpec {
  const sorted = [...clusters].sort((a, b) => a.cluster - b.cluster);
  // Labels can be long; the axis names the cluster and its share, the caption gives the labels.
  const name = (c: (typeof sorted)[number]) => `Cluster ${c.cluster} (${(c.share * 100).toFixed(0)}%)`;
  const names = sorted.map(name);
  const metrics: { key: 'meanRecencyDays' | 'meanOrders' | 'meanRevenue' | 'meanClv'; title: string; format: (n: number) => string }[] = [
    { key: 'meanRecencyDays', title: 'Mean recency (days)', format: (n) => fmt.int(n) },
    { key: 'meanOrders', title: 'Mean orders', format: (n) => n.toFixed(1) },
    { key: 'meanRevenue', title: 'Mean revenue', format: fmt.amount },
  ];
  if (sorted.some((c) => c.meanClv != null)) metrics.push({ key: 'meanClv', title: 'Mean CLV', format: fmt.amount });
  const values = sorted.flatMap((c) =>
    metrics.map((m) => ({
      name: name(c),
      metric: m.key,
      value: c[m.key] ?? 0,
      valueText: c[m.key] == null ? 'n/a' : m.format(c[m.key] ?? 0),
      tip: `Cluster ${c.cluster} (${c.label}), ${fmt.int(c.customers)} customers: ${m.title.toLowerCase()} ${c[m.key] == null ? 'n/a' : m.format(c[m.key] ?? 0)}`,
    })),
  );
  const color = {
    field: 'name',
    type: 'nominal',
    legend: null,
    scale: { domain: names, range: names.map((_, i) => PALETTE.categorical[i % PALETTE.categorical.length]) },
  };
  // Small multiples, two panels per row; cluster names only on the left panels.
  const panels = metrics.map((m, i) => {
    const max = Math.max(0, ...values.filter((v) => v.metric === m.key).map((v) => v.value));
    return {
      width: 165,
      height: Math.max(72, names.length * 26),
      transform: [{ filter: { field: 'metric', equal: m.key } }],
      title: { text: m.title, fontSize: 12, fontWeight: 600, color: '#374151', anchor: 'start', offset: 6 },
      encoding: {
        y: {
          field: 'name',
          type: 'nominal',
          sort: names,
          title: null,
          axis: i % 2 === 0 ? { ticks: false, domain: false, labelLimit: 190, labelFontSize: 11 } : null,
        },
        x: {
          field: 'value',
          type: 'quantitative',
          title: null,
          axis: { ...SI, tickCount: 3, grid: true },
          scale: { domain: [0, max > 0 ? max * 1.35 : 1], nice: false },
        },
      },
      layer: [
        { mark: { type: 'bar', cornerRadiusEnd: 2, height: { band: 0.7 } }, encoding: { color, ...tipEncoding } },
        {
          mark: { type: 'text', align: 'left', dx: 3, fontSize: 10, color: PALETTE.text, aria: false },
          encoding: { text: { field: 'valueText', type: 'nominal' } },
        },
      ],
    };
  });
  const rows: (typeof panels)[] = [];
  for (let i = 0; i < panels.length; i += 2) rows.push(panels.slice(i, i + 2));
  return spec({
    description: 'Mean recency, orders, revenue (and CLV) per k-means cluster',
    data: { values },
    spacing: 18,
    vconcat: rows.map((row) => ({ hconcat: row, spacing: 20 })),
  });
}
