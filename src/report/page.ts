/**
 * Self-contained HTML report: Vega-Lite specs compiled and rendered to static
 * SVG on the server, inlined in one page with inline CSS. The page loads
 * nothing (no scripts, fonts, images or styles from anywhere) and its
 * Content-Security-Policy says so. The same ReportData always gives the same
 * bytes: no clock, no random ids (vega's clip/gradient ids are renumbered per
 * chart).
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import {
  clustersSpec,
  clvSpec,
  FONT,
  lifecycleSpec,
  migrationSpec,
  PALETTE,
  paretoSpec,
  rfmHeatmapSpec,
  segmentsSpec,
  type ChartName,
} from './charts.js';
import type { ReportData } from './reportData.js';

export const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const moneyFmt = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const pctFmt = new Intl.NumberFormat('en-US', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });

function formatInt(n: number): string {
  return Number.isFinite(n) ? intFmt.format(n) : '—';
}

/** Model parameters: 4 significant digits, exponent only when needed. */
function formatParam(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return n.toExponential(3);
  return Number(n.toPrecision(4)).toString();
}

/** Small rates keep two significant digits ("0.017%"), others one decimal. */
function formatRate(rate: number): string {
  if (rate > 0 && rate < 0.001) return `${(rate * 100).toPrecision(2)}%`;
  return pctFmt.format(rate);
}

/** "2024-05-02T02:00:04.118Z" → "2024-05-02 02:00:04 UTC"; anything else as given. */
function formatTimestamp(ts: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(ts);
  if (!m) return ts;
  const zone = m[3] === 'Z' ? ' UTC' : m[3] ? ` ${m[3]}` : '';
  return `${m[1]} ${m[2]}${zone}`;
}

function formatDuration(startedAt: string, finishedAt: string): string | null {
  const ms = Date.parse(finishedAt) - Date.parse(startedAt);
  if (!Number.isFinite(ms) || ms < 0) return null;
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

// ---------------------------------------------------------------------------
// Chart rendering

/** Thrown when a chart cannot be rendered safely. */
export class ReportRenderError extends Error {
  override name = 'ReportRenderError';
}

function collectingLogger(chart: string, warnings: string[]): vega.LoggerInterface {
  let level = vega.Warn;
  const logger = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...args: readonly unknown[]) {
      throw new ReportRenderError(`chart ${chart}: ${args.map(String).join(' ')}`);
    },
    warn(...args: readonly unknown[]) {
      if (level >= vega.Warn) warnings.push(`${chart}: ${args.map(String).join(' ')}`);
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  return logger as unknown as vega.LoggerInterface;
}

// Text metrics. Without a canvas vega estimates every glyph at 0.8 em, which
// makes labels look longer than they are (wasted margins, early "…"). The
// charts use an Arial-metric font stack (Helvetica, Arial, Liberation Sans),
// so we measure with the standard Helvetica advance widths instead. Pure
// table lookups: deterministic, no canvas, no fonts needed on the server.

// Advance widths (1/1000 em) of ASCII 32..126, Helvetica and Helvetica-Bold.
const HELVETICA = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556,
  556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722,
  778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556,
  278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260,
  334, 584,
];
const HELVETICA_BOLD = [
  278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556,
  556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722,
  778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556,
  333, 611, 611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280,
  389, 584,
];
const OTHER_WIDTHS: Record<string, number> = { '·': 278, '…': 1000, '–': 556, '—': 1000, '’': 222, '‘': 222, '×': 584, '→': 1000, '≥': 549, '≤': 549 };

interface TextItem {
  fontSize?: number | string;
  fontWeight?: number | string;
}

/** Width in px of `text` set in the chart font at the item's size and weight. */
export function measureText(item: TextItem, text: unknown): number {
  const str = text == null ? '' : String(text).trim();
  const size = item.fontSize != null ? +item.fontSize || 0 : 11;
  const w = item.fontWeight;
  const bold = w === 'bold' || w === 'bolder' || (w != null && +w >= 600);
  const table = bold ? HELVETICA_BOLD : HELVETICA;
  let units = 0;
  for (const ch of str) {
    const code = ch.codePointAt(0) ?? 0;
    if (code >= 32 && code <= 126) units += table[code - 32];
    else units += OTHER_WIDTHS[ch] ?? (code >= 0x2e80 ? 1000 : 600);
  }
  // 3% headroom for hinting and font substitutes.
  return (units / 1000) * size * 1.03;
}

interface VegaTextMetrics {
  width: (item: TextItem, text: unknown) => number;
}
const vegaTextMetrics = (vega as unknown as { textMetrics: VegaTextMetrics }).textMetrics;
let metricsUsers = 0;
let savedWidth: VegaTextMetrics['width'] | null = null;

/** Use our metrics while `fn` runs (reference-counted: renders may interleave). */
async function withTextMetrics<T>(fn: () => Promise<T>): Promise<T> {
  if (metricsUsers++ === 0) {
    savedWidth = vegaTextMetrics.width;
    vegaTextMetrics.width = measureText;
  }
  try {
    return await fn();
  } finally {
    if (--metricsUsers === 0 && savedWidth) {
      vegaTextMetrics.width = savedWidth;
      savedWidth = null;
    }
  }
}

/** A vega loader that refuses every request: all data is inline. */
function offlineLoader(chart: string): vega.Loader {
  const loader = vega.loader();
  const refuse = (uri: string) => Promise.reject(new ReportRenderError(`chart ${chart}: refusing to load ${uri}`));
  loader.load = refuse;
  loader.sanitize = refuse as unknown as vega.Loader['sanitize'];
  return loader;
}

/**
 * Make vega's SVG safe and deterministic for inlining: drop the namespace
 * declarations (the HTML parser puts <svg> in the SVG namespace), renumber the
 * ids vega draws from global counters (clip0…, gradient_0…) into per-chart
 * ids, and refuse anything that could run or fetch.
 */
export function sanitizeSvg(svg: string, chart: string): string {
  let out = svg.replace(/\s+xmlns(:xlink)?="[^"]*"/g, '');
  const ids = new Map<string, string>();
  for (const m of out.matchAll(/\sid="([^"]+)"/g)) {
    if (!ids.has(m[1])) ids.set(m[1], `${chart}-def${ids.size + 1}`);
  }
  if (ids.size > 0) {
    out = out.replace(/(\sid="|url\(#|href="#)([^")]+)/g, (whole, pre: string, id: string) => {
      const next = ids.get(id);
      return next ? pre + next : whole;
    });
  }
  // The chart font is set once in the stylesheet (inherited), not on every <text>.
  out = out.split(` font-family="${escapeHtml(FONT).replace(/&#39;/g, "'")}"`).join('');
  // Geometry to 2 decimals: vega writes full doubles ("0.4666666666666667"),
  // which triples the size and ties the bytes to floating-point minutiae.
  out = out.replace(/\s(d|transform|x|y|x1|x2|y1|y2|width|height|r|cx|cy|dx|dy|points)="([^"]*)"/g, (_m, name: string, value: string) => {
    const rounded = value.replace(/-?\d*\.\d{3,}(?:e-?\d+)?/g, (num) => {
      const r = Math.round(Number(num) * 100) / 100;
      return String(Object.is(r, -0) ? 0 : r);
    });
    return ` ${name}="${rounded}"`;
  });
  // Native hover tooltips without script: a mark's description becomes its <title>.
  // (vega escapes & < > " in attribute values, so the text is safe as element content.)
  out = out.replace(
    /<(path|rect|circle|line)\b([^<>]*?\saria-label="([^"]*)"[^<>]*?\srole="graphics-symbol"[^<>]*?)\/>/g,
    (_m, tag: string, attrs: string, label: string) => `<${tag}${attrs}><title>${label}</title></${tag}>`,
  );
  assertSafeSvg(out, chart);
  return out;
}

/** Elements vega's SVG renderer emits; anything else is refused. */
const SVG_TAGS = new Set([
  'svg', 'g', 'path', 'rect', 'line', 'circle', 'ellipse', 'polygon', 'polyline', 'text', 'tspan',
  'title', 'desc', 'defs', 'clipPath', 'linearGradient', 'radialGradient', 'stop',
]);

/**
 * Allow-list check of the markup (not of the text: user strings are escaped,
 * so "<" only ever opens a tag): known SVG elements only, no event handler
 * attributes, links and url() references only to ids in the same page.
 */
function assertSafeSvg(svg: string, chart: string): void {
  const fail = (what: string) => {
    throw new ReportRenderError(`chart ${chart}: unsafe SVG output (${what})`);
  };
  const bad = /<(?![a-zA-Z/])/.exec(svg);
  if (bad) fail(svg.slice(bad.index, bad.index + 20));
  for (const tag of svg.matchAll(/<\/?([a-zA-Z][\w:-]*)([^>]*)>/g)) {
    if (!SVG_TAGS.has(tag[1])) fail(`<${tag[1]}>`);
    const attrs = tag[2].replace(/\s*\/$/, '');
    const rest = attrs.replace(/\s+[\w:-]+="[^"]*"/g, '');
    if (rest.trim() !== '') fail(`attributes ${rest.trim().slice(0, 40)}`);
    for (const [, name, value] of attrs.matchAll(/\s+([\w:-]+)="([^"]*)"/g)) {
      const n = name.toLowerCase();
      if (n.startsWith('on')) fail(n);
      if ((n === 'href' || n === 'xlink:href' || n === 'src') && !value.startsWith('#')) fail(`${n}="${value}"`);
      if (/url\(\s*(?!#)/i.test(value) || /javascript:|expression\(/i.test(value)) fail(`${n}="${value.slice(0, 40)}"`);
    }
  }
}

export interface RenderedChart {
  svg: string;
  warnings: string[];
}

/** Compile a Vega-Lite spec and render it to sanitised static SVG (no canvas, no DOM). */
export async function renderChartSvg(name: string, spec: TopLevelSpec): Promise<RenderedChart> {
  const warnings: string[] = [];
  const logger = collectingLogger(name, warnings);
  const compiled = compile(spec, { logger }).spec;
  const view = new vega.View(vega.parse(compiled), {
    renderer: 'none',
    logger,
    logLevel: vega.Warn,
    loader: offlineLoader(name),
  });
  try {
    vega.resetSVGDefIds();
    const svg = await withTextMetrics(() => view.toSVG());
    return { svg: sanitizeSvg(svg, name), warnings };
  } finally {
    view.finalize();
  }
}

// ---------------------------------------------------------------------------
// Page

interface ChartSection {
  name: ChartName;
  title: string;
  caption: string;
  /** Wide charts span the whole page width. */
  wide?: boolean;
  /** Null when the data is missing for this run. */
  spec: TopLevelSpec | null;
  missing: string;
}

function chartSections(data: ReportData): ChartSection[] {
  const has = <T,>(xs: T[] | null | undefined): xs is T[] => Array.isArray(xs) && xs.length > 0;
  const top2 = data.deciles.find((d) => d.decile === 2);
  return [
    {
      name: 'rfm-heatmap',
      title: 'RFM grid: recency × frequency',
      caption:
        'Customers per recency (R) and frequency (F) score, 5 = best; the second line is the mean revenue of the cell. Empty cells have no customers (ties on F can leave a score unused).',
      spec: has(data.rfmHeatmap) ? rfmHeatmapSpec(data.rfmHeatmap) : null,
      missing: 'No RFM scores in this run.',
    },
    {
      name: 'segments',
      title: 'Segments: customers vs revenue',
      caption: 'Share of customers and share of revenue per named RFM segment, best segments first.',
      spec: has(data.segments) ? segmentsSpec(data.segments) : null,
      missing: 'No named segments in this run.',
    },
    {
      name: 'pareto',
      title: 'Revenue concentration (Pareto)',
      caption: top2
        ? `Cumulative share of revenue against share of customers ranked by revenue; the top 20% bring ${pctFmt.format(top2.cumulativeShare)} of revenue. The dashed line is an equal split.`
        : 'Cumulative share of revenue against share of customers ranked by revenue. The dashed line is an equal split.',
      spec: has(data.deciles) ? paretoSpec(data.deciles) : null,
      missing: 'No value deciles in this run.',
    },
    {
      name: 'clv',
      title: 'Predicted customer lifetime value',
      caption: 'Number of customers per predicted CLV band.',
      spec: has(data.clvHistogram) ? clvSpec(data.clvHistogram) : null,
      missing: 'This run has no CLV predictions.',
    },
    {
      name: 'lifecycle',
      title: 'Lifecycle stages',
      caption: 'Customers per lifecycle stage, from acquisition to termination, with their share of the base.',
      spec: has(data.stages) ? lifecycleSpec(data.stages) : null,
      missing: 'This run has no lifecycle stages.',
    },
    {
      name: 'clusters',
      title: 'k-means cluster profiles',
      caption: `Mean recency, orders and revenue (and CLV when predicted) per cluster; clusters are numbered by descending mean revenue, share of customers in brackets.${
        has(data.clusters) ? ` ${[...data.clusters!].sort((a, b) => a.cluster - b.cluster).map((c) => `${c.cluster}: ${c.label}.`).join(' ')}` : ''
      }`,
      spec: has(data.clusters) ? clustersSpec(data.clusters) : null,
      missing: 'This run has no k-means clusters.',
    },
    {
      name: 'migration',
      title: data.migration ? `Migration from run ${data.migration.fromRun} to run ${data.migration.toRun}` : 'Migration between runs',
      caption: data.migration
        ? `Customers by ${data.migration.by} in run ${data.migration.fromRun} (rows) and run ${data.migration.toRun} (columns); outlined cells stayed put.`
        : '',
      wide: true,
      spec: data.migration && has(data.migration.cells) ? migrationSpec(data.migration) : null,
      missing: 'There is no earlier run to compare with.',
    },
  ];
}

function headerHtml(data: ReportData): string {
  const { run, totals } = data;
  const kpis: [string, string, string?][] = [
    ['Customers', formatInt(totals.customers)],
    ['Revenue', moneyFmt.format(totals.revenue)],
    ['Rows read', formatInt(totals.rowsRead)],
    [
      'Rows rejected',
      formatInt(totals.rowsRejected),
      totals.rowsRead > 0 ? `${formatRate(totals.rowsRejected / totals.rowsRead)} of rows read` : undefined,
    ],
    ['Rows excluded', formatInt(totals.rowsExcluded), 'after the as-of date'],
    ['As of', run.asOf],
  ];
  const duration = formatDuration(run.startedAt, run.finishedAt);
  const inputs = run.inputs.length
    ? `<ul class="inputs">${run.inputs.map((i) => `<li><code>${escapeHtml(i)}</code></li>`).join('')}</ul>`
    : '<p class="muted">No inputs recorded.</p>';
  return `<header class="report-header">
<p class="eyebrow">crm · analytical CRM report</p>
<h1>${escapeHtml(data.title)}</h1>
<p class="run-meta">Run <strong>#${escapeHtml(run.id)}</strong> · as of <strong>${escapeHtml(run.asOf)}</strong> · started ${escapeHtml(formatTimestamp(run.startedAt))} · finished ${escapeHtml(formatTimestamp(run.finishedAt))}${duration ? ` (${escapeHtml(duration)})` : ''}</p>
<dl class="kpis">
${kpis
  .map(
    ([label, value, note]) =>
      `<div class="kpi"><dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd>${note ? `<dd class="kpi-note">${escapeHtml(note)}</dd>` : ''}</div>`,
  )
  .join('\n')}
</dl>
<details class="inputs-box"${run.inputs.length <= 5 ? ' open' : ''}><summary>Inputs (${run.inputs.length})</summary>${inputs}</details>
</header>`;
}

function paramsHtml(params: Record<string, number>): string {
  const names = Object.keys(params);
  if (names.length === 0) return '<span class="muted">—</span>';
  return names
    .map((k) => `<span class="param"><span class="param-name">${escapeHtml(k)}</span> ${escapeHtml(formatParam(params[k]))}</span>`)
    .join(' ');
}

function convergedHtml(ok: boolean): string {
  return ok ? '<span class="badge ok">converged</span>' : '<span class="badge warn">not converged</span>';
}

/** The dropout side of a BG/NBD fit at its a, b → ∞ boundary: one p for everyone. */
function boundaryParamsHtml(dropoutProbability: number): string {
  return `<span class="param"><span class="param-name">a, b</span> → ∞</span> <span class="param"><span class="param-name">a/(a+b)</span> ${escapeHtml(formatParam(dropoutProbability))}</span>`;
}

function logLikHtml(ll: number | null): string {
  return ll == null || !Number.isFinite(ll) ? '<span class="muted">—</span>' : escapeHtml(ll.toFixed(2));
}

function fitHtml(data: ReportData): string {
  const fit = data.fit;
  if (!fit) {
    return `<section class="fit" aria-labelledby="fit-title"><h2 id="fit-title">Model fit</h2><p class="not-available">No CLV model was fitted: not available for this run.</p></section>`;
  }
  const boundary = fit.boundary;
  const purchaseParams = boundary ? `${paramsHtml(fit.params)} ${boundaryParamsHtml(boundary.dropoutProbability)}` : paramsHtml(fit.params);
  const purchaseStatus = boundary ? '<span class="badge limit">fixed-dropout limit</span>' : convergedHtml(fit.converged);
  const rows = [
    `<tr><th scope="row">${escapeHtml(fit.model)}<span class="sub">purchases &amp; P(alive), time unit ${escapeHtml(fit.timeUnit)}</span></th><td>${purchaseParams}</td><td class="num">${logLikHtml(fit.logLikelihood)}</td><td>${purchaseStatus}</td></tr>`,
  ];
  if (fit.gammaGamma) {
    const gg = fit.gammaGamma;
    rows.push(
      `<tr><th scope="row">Gamma-Gamma<span class="sub">spend per purchase</span></th><td>${paramsHtml(gg.params)}</td><td class="num">${logLikHtml(gg.logLikelihood)}</td><td>${convergedHtml(gg.converged)}</td></tr>`,
    );
  }
  // The boundary is not a failure: its limit is a fitted model, and the CLV columns come from it.
  const limitNote = boundary
    ? `<p class="note">${escapeHtml(fit.model)} ran to its boundary (a, b → ∞: no spread in dropout between customers), so crm fitted the fixed-dropout limit: a/(a+b) = ${escapeHtml(formatParam(boundary.dropoutProbability))}, one dropout probability for every customer. P(alive), expected purchases and CLV come from that limit.</p>`
    : '';
  const warn =
    (!fit.converged && !boundary) || (fit.gammaGamma && !fit.gammaGamma.converged)
      ? '<p class="warning">A fit did not converge: its CLV columns are null for this run.</p>'
      : '';
  return `<section class="fit" aria-labelledby="fit-title">
<h2 id="fit-title">Model fit</h2>
<table class="fit-table">
<thead><tr><th scope="col">Model</th><th scope="col">Parameters</th><th scope="col" class="num">Log-likelihood</th><th scope="col">Status</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
${limitNote}${warn}</section>`;
}

function figureHtml(section: ChartSection, svg: string): string {
  return `<figure class="chart${section.wide ? ' wide' : ''}" data-chart="${section.name}" id="chart-${section.name}">
<h3>${escapeHtml(section.title)}</h3>
<div class="chart-body">${svg}</div>
<figcaption>${escapeHtml(section.caption)}</figcaption>
</figure>`;
}

function missingHtml(section: ChartSection): string {
  return `<div class="chart-missing${section.wide ? ' wide' : ''}" data-chart-missing="${section.name}">
<h3>${escapeHtml(section.title)}</h3>
<p class="not-available">Not available for this run. ${escapeHtml(section.missing)}</p>
</div>`;
}

const CSS = `
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#f5f6f8;color:${PALETTE.text};font:14px/1.5 ${FONT};font-variant-numeric:tabular-nums}
.report{max-width:1240px;margin:0 auto;padding:32px 24px 48px}
h1{font-size:26px;line-height:1.25;margin:2px 0 6px;font-weight:700;letter-spacing:-.01em}
h2{font-size:17px;margin:0 0 12px;font-weight:650}
h3{font-size:15px;margin:0 0 8px;font-weight:600}
.eyebrow{margin:0;font-size:12px;text-transform:uppercase;letter-spacing:.08em;color:${PALETTE.primary};font-weight:600}
.run-meta{margin:0 0 20px;color:${PALETTE.muted}}
.run-meta strong{color:${PALETTE.text};font-weight:600}
.muted{color:${PALETTE.muted}}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px;margin:0 0 16px}
.kpi{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:14px 16px}
.kpi dt{font-size:12px;color:${PALETTE.muted};text-transform:uppercase;letter-spacing:.05em;font-weight:600}
.kpi dd{margin:4px 0 0;font-size:22px;font-weight:650;letter-spacing:-.01em}
.kpi dd.kpi-note{font-size:12px;font-weight:400;color:${PALETTE.muted};margin-top:2px;letter-spacing:0}
.inputs-box{margin:0 0 28px;color:${PALETTE.muted};font-size:13px}
.inputs-box summary{cursor:pointer}
.inputs{margin:6px 0 0;padding-left:20px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px;color:${PALETTE.text};background:#eef0f3;border-radius:4px;padding:1px 5px;word-break:break-all}
section{margin:0 0 28px}
.fit{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:18px 20px}
.fit-table{width:100%;border-collapse:collapse}
.fit-table th,.fit-table td{text-align:left;padding:9px 12px 9px 0;border-top:1px solid #eef0f3;vertical-align:top}
.fit-table thead th{border-top:0;font-size:12px;color:${PALETTE.muted};text-transform:uppercase;letter-spacing:.05em;font-weight:600}
.fit-table tbody th{font-weight:600;white-space:nowrap}
.fit-table .num{text-align:right;padding-right:24px}
.sub{display:block;font-weight:400;font-size:12px;color:${PALETTE.muted}}
.param{display:inline-block;margin:0 14px 2px 0;white-space:nowrap}
.param-name{font-style:italic;color:${PALETTE.muted};margin-right:2px}
.badge{display:inline-block;font-size:12px;font-weight:600;border-radius:999px;padding:2px 10px}
.badge.ok{background:#dcfce7;color:#166534}
.badge.warn{background:#fef3c7;color:#92400e}
.badge.limit{background:#e0f2fe;color:#075985}
.warning{margin:12px 0 0;color:#92400e}
.note{margin:12px 0 0}
.charts-grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:20px}
.chart,.chart-missing{margin:0;background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:18px 20px 14px;min-width:0}
.chart.wide,.chart-missing.wide{grid-column:1/-1}
.chart-body{overflow-x:auto}
.chart-body svg{display:block;max-width:100%;height:auto;font-family:${FONT}}
figcaption{margin-top:10px;font-size:12.5px;color:${PALETTE.muted}}
.not-available{margin:0;color:${PALETTE.muted};font-style:italic}
.report-footer{margin-top:32px;font-size:12px;color:${PALETTE.muted};text-align:center}
@media (max-width:900px){.charts-grid{grid-template-columns:1fr}}
@media print{body{background:#fff}.report{padding:0}.chart,.chart-missing,.fit,.kpi{break-inside:avoid;border-color:#d1d5db}}
`
  .trim()
  .replace(/\n/g, '');

export interface RenderReportOptions {
  /** Receives vega / vega-lite warnings (default: ignored). */
  onWarning?: (message: string) => void;
}

/** Render the report as one self-contained HTML document (deterministic). */
export async function renderReport(data: ReportData, options: RenderReportOptions = {}): Promise<string> {
  const blocks: string[] = [];
  // Sequential on purpose: vega numbers clip paths and gradients from global counters.
  for (const section of chartSections(data)) {
    if (!section.spec) {
      blocks.push(missingHtml(section));
      continue;
    }
    const { svg, warnings } = await renderChartSvg(section.name, section.spec);
    for (const w of warnings) options.onWarning?.(w);
    blocks.push(figureHtml(section, svg));
  }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(data.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main class="report">
${headerHtml(data)}
${fitHtml(data)}
<section class="charts" aria-labelledby="charts-title">
<h2 id="charts-title">Customer base</h2>
<div class="charts-grid">
${blocks.join('\n')}
</div>
</section>
<footer class="report-footer">crm report · run #${escapeHtml(data.run.id)} · as of ${escapeHtml(data.run.asOf)}</footer>
</main>
</body>
</html>
`;
}
