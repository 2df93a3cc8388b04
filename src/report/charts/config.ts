/**
 * What every chart of the report shares: font, palette, Vega-Lite config,
 * number formats and tooltips. One file per chart beside this one, each a
 * small pure function from its data to a spec.
 *
 * Every spec is deterministic: inline data only (no URLs), explicit
 * width/height, fixed colours, no generated names or random ids. The specs are
 * rendered to static SVG on the server (see svg/render.ts), so nothing here
 * relies on interactivity: each data mark gets a preformatted `tip` that is
 * both its vega tooltip and its description, which the renderer turns into an
 * SVG <title> (a native hover tooltip, no script).
 */
import type { TopLevelSpec } from 'vega-lite';

type Config = NonNullable<TopLevelSpec['config']>;

/**
 * Arial-metric fonts only (Helvetica on macOS, Arial on Windows, Liberation
 * Sans on Linux): the server lays out text with Helvetica advance widths
 * (svg/render.ts), so what the reader sees matches what vega measured.
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
export type ChartName =
  | 'rfm-heatmap'
  | 'segments'
  | 'pareto'
  | 'clv'
  | 'lifecycle'
  | 'clusters'
  | 'migration'
  | 'period-transactions'
  | 'p-alive'
  | 'p-alive-matrix'
  | 'frequency-recency-matrix'
  | 'calibration-holdout'
  | 'tracking'
  | 'history-kpis'
  | 'history-segments'
  | 'history-stages';

export function spec(body: Record<string, unknown>): TopLevelSpec {
  return { $schema: SCHEMA, config: CHART_CONFIG, ...body } as TopLevelSpec;
}

const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const amountFmt = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const pctFmt = new Intl.NumberFormat('en-US', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
export const fmt = {
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
export const tipEncoding = { tooltip: TIP, description: TIP };

/**
 * Compact SI labels ("2k", "1.5M"); vega picks one prefix for all ticks, so
 * zero would read "0k": show it as "0".
 */
export const SI = { format: '~s', labelExpr: "datum.value == 0 ? '0' : datum.label" } as const;

/** Known orders first (in their order), unknown values after, sorted. */
export function orderedDomain(values: Iterable<string>, known: readonly string[]): string[] {
  const present = new Set(values);
  const head = known.filter((v) => present.has(v));
  const tail = [...present].filter((v) => !known.includes(v)).sort();
  return [...head, ...tail];
}

/** Text colour readable on a sequential fill: white on the darker half. */
export function contrastText(field: string, maxField: string, threshold = 0.55): Record<string, unknown> {
  return { condition: { test: `datum.${field} > ${threshold} * datum.${maxField}`, value: '#ffffff' }, value: PALETTE.text };
}
