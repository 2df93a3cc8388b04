/** The page's sections: the header, the model fit, and one figure per chart (or why it is missing). */
import type { TopLevelSpec } from 'vega-lite';
import { clustersSpec } from './charts/clusters.js';
import { clvSpec } from './charts/clv.js';
import type { ChartName } from './charts/config.js';
import { lifecycleSpec } from './charts/lifecycle.js';
import { migrationSpec } from './charts/migration.js';
import { paretoSpec } from './charts/pareto.js';
import { rfmHeatmapSpec } from './charts/rfmHeatmap.js';
import { segmentsSpec } from './charts/segments.js';
import type { ReportData } from './data.js';
import { escapeHtml, formatDuration, formatInt, formatParam, formatRate, formatTimestamp, moneyFmt, pctFmt } from './format.js';

export interface ChartSection {
  name: ChartName;
  title: string;
  caption: string;
  /** Wide charts span the whole page width. */
  wide?: boolean;
  /** Null when the data is missing for this run. */
  spec: TopLevelSpec | null;
  missing: string;
}

export const has = <T,>(xs: T[] | null | undefined): xs is T[] => Array.isArray(xs) && xs.length > 0;

export function chartSections(data: ReportData): ChartSection[] {
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
      caption: clvCaption(data.clvDistribution),
      spec: data.clvDistribution && (has(data.clvDistribution.bins) || data.clvDistribution.below) ? clvSpec(data.clvDistribution) : null,
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
      caption: `Each cluster's label and its median customer's days since last order, orders and revenue (and CLV when predicted); share of customers in brackets. A cluster keeps its number from run to run: numbered by descending mean revenue when first found, then matched to the previous run's clusters.${
        has(data.clusters) ? ` ${[...data.clusters!].sort((a, b) => a.cluster - b.cluster).map((c) => `${c.cluster}: ${c.label}.`).join(' ')}` : ''
      }`,
      spec: has(data.clusters) ? clustersSpec(data.clusters) : null,
      missing: 'This run has no k-means clusters.',
      wide: true,
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

function clvCaption(d: ReportData['clvDistribution']): string {
  const guide = 'Customers per predicted CLV band on a log scale, each band a quarter of a decade wide: read the tail to the right, band by band; hover a bar for the lowest and highest CLV in it.';
  if (!d) return guide;
  const top = d.bins.length ? Math.max(...d.bins.map((b) => b.maxClv)) : null;
  const below = d.below ? ` The grey bar holds the ${formatInt(d.below.customers)} customers under ${moneyFmt.format(d.below.edge)} (CLV 0 included).` : '';
  return `${guide}${below}${top !== null ? ` Highest CLV: ${moneyFmt.format(top)}.` : ''}`;
}

export function headerHtml(data: ReportData): string {
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

export function fitHtml(data: ReportData): string {
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

export function figureHtml(section: ChartSection, svg: string): string {
  return `<figure class="chart${section.wide ? ' wide' : ''}" data-chart="${section.name}" id="chart-${section.name}">
<h3>${escapeHtml(section.title)}</h3>
<div class="chart-body">${svg}</div>
<figcaption>${escapeHtml(section.caption)}</figcaption>
</figure>`;
}

export function missingHtml(section: ChartSection): string {
  return `<div class="chart-missing${section.wide ? ' wide' : ''}" data-chart-missing="${section.name}">
<h3>${escapeHtml(section.title)}</h3>
<p class="not-available">Not available for this run. ${escapeHtml(section.missing)}</p>
</div>`;
}
