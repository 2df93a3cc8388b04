import type { TopLevelSpec } from 'vega-lite';
import type { ReportData } from '../data.js';
import { fmt, PALETTE, SI, spec, tipEncoding } from './config.js';

/**
 * Cluster profiles, one row per cluster: its label, then its median customer's
 * days since the last order, orders and revenue (and CLV), the facts the
 * label states, side by side.
 */
export function clustersSpec(clusters: NonNullable<ReportData['clusters']>): TopLevelSpec {
  const sorted = [...clusters].sort((a, b) => a.cluster - b.cluster);
  const name = (c: (typeof sorted)[number]) => `Cluster ${c.cluster} (${(c.share * 100).toFixed(0)}%)`;
  const names = sorted.map(name);
  type Metric = 'medianRecencyDays' | 'medianOrders' | 'medianRevenue' | 'medianClv';
  const metrics: { key: Metric; title: string; format: (n: number) => string }[] = [
    { key: 'medianRecencyDays', title: 'days since last order', format: (n) => fmt.int(n) },
    { key: 'medianOrders', title: 'orders', format: (n) => (Number.isInteger(n) ? String(n) : n.toFixed(1)) },
    { key: 'medianRevenue', title: 'revenue', format: fmt.amount },
  ];
  if (sorted.some((c) => c.medianClv != null)) metrics.push({ key: 'medianClv', title: 'CLV', format: fmt.amount });
  const values = sorted.flatMap((c) =>
    metrics.map((m) => ({
      name: name(c),
      label: c.label,
      metric: m.key,
      value: c[m.key] ?? 0,
      valueText: c[m.key] == null ? 'n/a' : m.format(c[m.key] ?? 0),
      tip: `Cluster ${c.cluster} (${c.label}), ${fmt.int(c.customers)} customers: median ${m.title} ${c[m.key] == null ? 'n/a' : m.format(c[m.key] ?? 0)}`,
    })),
  );
  const color = {
    field: 'name',
    type: 'nominal',
    legend: null,
    scale: { domain: names, range: names.map((_, i) => PALETTE.categorical[i % PALETTE.categorical.length]) },
  };
  const height = Math.max(72, names.length * 26);
  const y = (axis: boolean) => ({
    field: 'name',
    type: 'nominal',
    sort: names,
    title: null,
    axis: axis ? { ticks: false, domain: false, labelLimit: 190, labelFontSize: 11 } : null,
  });
  // The label, as text beside the cluster's name.
  const labelPanel = {
    width: 330,
    height,
    transform: [{ filter: { field: 'metric', equal: metrics[0]!.key } }],
    title: { text: 'Label', fontSize: 12, fontWeight: 600, color: '#374151', anchor: 'start', offset: 6 },
    mark: { type: 'text', align: 'left', x: 0, fontSize: 11, color: PALETTE.text, limit: 330 },
    encoding: { y: y(true), text: { field: 'label', type: 'nominal' }, ...tipEncoding },
  };
  const panels = metrics.map((m) => {
    const max = Math.max(0, ...values.filter((v) => v.metric === m.key).map((v) => v.value));
    return {
      width: 120,
      height,
      transform: [{ filter: { field: 'metric', equal: m.key } }],
      title: { text: `Median ${m.title}`, fontSize: 12, fontWeight: 600, color: '#374151', anchor: 'start', offset: 6 },
      encoding: {
        y: y(false),
        x: {
          field: 'value',
          type: 'quantitative',
          title: null,
          axis: { ...SI, tickCount: 3, grid: true },
          scale: { domain: [0, max > 0 ? max * 1.45 : 1], nice: false },
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
  return spec({
    description: 'Label and median days since last order, orders, revenue (and CLV) per k-means cluster',
    data: { values },
    spacing: 18,
    vconcat: [{ hconcat: [labelPanel, ...panels], spacing: 14 }],
  });
}
