/**
 * Vega-Lite specs for the report, one small pure function per chart.
 *
 * Every spec is deterministic: inline data only (no URLs), explicit
 * width/height, fixed colours, no generated names or random ids. The specs are
 * rendered to static SVG on the server (see renderReport.ts), so nothing here
 * relies on interactivity: each data mark gets a preformatted `tip` that is
 * both its vega tooltip and its description, which the renderer turns into an
 * SVG <title> (a native hover tooltip, no script).
 */
import type { TopLevelSpec } from 'vega-lite';
import { SEGMENT_ORDER, STAGE_ORDER, type ReportData } from './reportData.js';

type Config = NonNullable<TopLevelSpec['config']>;

/**
 * Arial-metric fonts only (Helvetica on macOS, Arial on Windows, Liberation
 * Sans on Linux): the server lays out text with Helvetica advance widths
 * (renderReport.ts), so what the reader sees matches what vega measured.
 */
export const FONT = 'Helvetica, Arial, "Liberation Sans", "Nimbus Sans", sans-serif';

/** The report palette; the HTML stylesheet uses the same values. */
export const PALETTE = {
  text: '#1f2937',
  muted: '#6b7280',
  grid: '#e5e7eb',
  axis: '#9ca3af',
  empty: '#f3f4f6',
  primary: '#2563eb',
  secondary: '#94a3b8',
  accent: '#f59e0b',
  /** Sequential scheme for counts (heatmaps). */
  sequential: 'blues',
  /** Categorical colours (clusters), colour-blind friendly order. */
  categorical: ['#2563eb', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#06b6d4', '#ec4899', '#84cc16', '#64748b', '#a16207'],
  /** Lifecycle stages: growth in blues/teal, decline in amber → red. */
  stages: {
    new: '#93c5fd',
    active: '#3b82f6',
    loyal: '#1d4ed8',
    reactivated: '#14b8a6',
    at_risk: '#f59e0b',
    lapsed: '#f97316',
    lost: '#dc2626',
  } as Record<string, string>,
} as const;

/** Shared look: clean sans-serif, light grid, no chart border. */
export const CHART_CONFIG: Config = {
  background: '#ffffff',
  font: FONT,
  padding: { left: 4, right: 12, top: 8, bottom: 4 },
  view: { stroke: null },
  axis: {
    labelFontSize: 11,
    labelColor: '#4b5563',
    titleFontSize: 12,
    titleFontWeight: 600,
    titleColor: '#374151',
    titlePadding: 8,
    domainColor: PALETTE.axis,
    tickColor: PALETTE.axis,
    gridColor: PALETTE.grid,
    labelLimit: 160,
  },
  legend: {
    labelFontSize: 11,
    labelColor: '#4b5563',
    titleFontSize: 11,
    titleFontWeight: 600,
    titleColor: '#374151',
  },
  header: { labelFontSize: 12, labelFontWeight: 600, labelColor: '#374151', titleFontSize: 12 },
  text: { font: FONT, fontSize: 11, color: PALETTE.text },
  bar: { color: PALETTE.primary },
  line: { color: PALETTE.primary },
  point: { color: PALETTE.primary },
};

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Names of the charts, as used in `data-chart` attributes. */
export type ChartName = 'rfm-heatmap' | 'segments' | 'pareto' | 'clv' | 'lifecycle' | 'clusters' | 'migration';

function spec(body: Record<string, unknown>): TopLevelSpec {
  return { $schema: SCHEMA, config: CHART_CONFIG, ...body } as TopLevelSpec;
}

const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const amountFmt = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const pctFmt = new Intl.NumberFormat('en-US', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
const fmt = {
  int: (n: number) => intFmt.format(n),
  amount: (n: number) => amountFmt.format(n),
  pct: (n: number) => pctFmt.format(n),
};

/**
 * Per-mark tooltip: one preformatted line per datum, used both as the vega
 * tooltip and as the mark's accessible description (which the renderer turns
 * into a native SVG <title>, so hovering works in a static page).
 */
const TIP = { field: 'tip', type: 'nominal' } as const;
const tipEncoding = { tooltip: TIP, description: TIP };

/**
 * Compact SI labels ("2k", "1.5M"); vega picks one prefix for all ticks, so
 * zero would read "0k": show it as "0".
 */
const SI = { format: '~s', labelExpr: "datum.value == 0 ? '0' : datum.label" } as const;

/** Known orders first (in their order), unknown values after, sorted. */
function orderedDomain(values: Iterable<string>, known: readonly string[]): string[] {
  const present = new Set(values);
  const head = known.filter((v) => present.has(v));
  const tail = [...present].filter((v) => !known.includes(v)).sort();
  return [...head, ...tail];
}

/** Text colour readable on a sequential fill: white on the darker half. */
function contrastText(field: string, maxField: string, threshold = 0.55): Record<string, unknown> {
  return { condition: { test: `datum.${field} > ${threshold} * datum.${maxField}`, value: '#ffffff' }, value: PALETTE.text };
}

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

/** Share of customers vs share of revenue per named segment. */
export function segmentsSpec(segments: ReportData['segments']): TopLevelSpec {
  const order = orderedDomain(
    segments.map((s) => s.segment),
    SEGMENT_ORDER,
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

/** Lifecycle funnel: horizontal bars in stage order. */
export function lifecycleSpec(stages: NonNullable<ReportData['stages']>): TopLevelSpec {
  const label = (s: string) => s.replace(/_/g, ' ');
  const order = orderedDomain(
    stages.map((s) => s.stage),
    STAGE_ORDER,
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

/** Migration matrix between two runs: from (rows) × to (columns), counts as text. */
export function migrationSpec(migration: NonNullable<ReportData['migration']>): TopLevelSpec {
  const known = [...SEGMENT_ORDER, ...STAGE_ORDER];
  const domain = orderedDomain(
    migration.cells.flatMap((c) => [c.from, c.to]),
    known,
  );
  const step = domain.length > 8 ? 44 : 60;
  const by = migration.by.charAt(0).toUpperCase() + migration.by.slice(1);
  const values = migration.cells
    .filter((c) => c.customers > 0)
    .map((c) => ({ ...c, tip: `${c.from} → ${c.to}: ${fmt.int(c.customers)} customers, revenue ${fmt.amount(c.revenue)}` }));
  return spec({
    description: `Customers moving between ${migration.by} values from run ${migration.fromRun} to run ${migration.toRun}`,
    width: domain.length * step,
    height: domain.length * step,
    data: { values },
    transform: [{ joinaggregate: [{ op: 'max', field: 'customers', as: 'maxCustomers' }] }],
    encoding: {
      x: {
        field: 'to',
        type: 'nominal',
        sort: domain,
        scale: { domain },
        title: `${by} in run ${migration.toRun}`,
        axis: { orient: 'top', labelAngle: -40, labelAlign: 'left', labelPadding: 6, ticks: false, domain: false },
      },
      y: {
        field: 'from',
        type: 'nominal',
        sort: domain,
        scale: { domain },
        title: `${by} in run ${migration.fromRun}`,
        axis: { ticks: false, domain: false, labelPadding: 6 },
      },
    },
    layer: [
      {
        mark: { type: 'rect', stroke: '#ffffff', strokeWidth: 1.5 },
        encoding: {
          color: {
            field: 'customers',
            type: 'quantitative',
            title: 'Customers',
            scale: { scheme: PALETTE.sequential, type: 'sqrt', zero: true },
            legend: { format: ',d', gradientLength: 160 },
          },
          ...tipEncoding,
        },
      },
      {
        // Outline the diagonal (customers who stayed) on top of the cells.
        transform: [{ filter: 'datum.from === datum.to' }],
        mark: { type: 'rect', filled: false, stroke: PALETTE.text, strokeWidth: 1.5, aria: false },
      },
      {
        mark: { type: 'text', fontSize: 10, aria: false },
        encoding: {
          text: { field: 'customers', type: 'quantitative', format: '.3~s' },
          color: contrastText('customers', 'maxCustomers', 0.3),
        },
      },
    ],
  });
}
