/**
 * Self-contained HTML report: Vega-Lite specs compiled and rendered to static
 * SVG on the server, inlined in one page with inline CSS. The page loads
 * nothing (no scripts, fonts, images or styles from anywhere) and its
 * Content-Security-Policy says so. The same ReportData always gives the same
 * bytes: no clock, no random ids (vega's clip/gradient ids are renumbered per
 * chart).
 */
import { FONT, PALETTE } from './charts/config.js';
import type { ReportData } from './data.js';
import { escapeHtml } from './format.js';
import { renderChartSvg } from './svg/render.js';
import { diagnosticSections, historySections, historyTableHtml } from './diagnosticSections.js';
import { chartSections, figureHtml, fitHtml, headerHtml, missingHtml, type ChartSection } from './sections.js';

export const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

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
.runs-table{margin:0 0 20px;overflow-x:auto}
.runs-table tr.current th,.runs-table tr.current td{background:#eff6ff}
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

/** The page's groups of charts, in order: the customer base, the model's diagnostics, the runs in the history. */
export function chartGroups(data: ReportData): { id: string; title: string; sections: ChartSection[] }[] {
  return [
    { id: 'charts', title: 'Customer base', sections: chartSections(data) },
    { id: 'diagnostics', title: 'Model diagnostics', sections: diagnosticSections(data) },
    { id: 'history', title: 'Across runs', sections: historySections(data) },
  ];
}

/** Render the report as one self-contained HTML document (deterministic). */
export async function renderReport(data: ReportData, options: RenderReportOptions = {}): Promise<string> {
  const groups: string[] = [];
  // Sequential on purpose: vega numbers clip paths and gradients from global counters.
  for (const group of chartGroups(data)) {
    const before = group.id === 'history' ? historyTableHtml(data) : '';
    groups.push(await chartGroupHtml(group.id, group.title, group.sections, options, before));
  }
  return pageHtml(
    data.title,
    `${headerHtml(data)}
${fitHtml(data)}
${groups.join('\n')}`,
    `crm report · run #${escapeHtml(data.run.id)} · as of ${escapeHtml(data.run.asOf)}`,
  );
}

/** One titled section of the page: its charts (or why each is missing) in the two-column grid. */
export async function chartGroupHtml(id: string, title: string, sections: ChartSection[], options: RenderReportOptions, before = ''): Promise<string> {
  const blocks: string[] = [];
  for (const section of sections) {
    if (!section.spec) {
      blocks.push(missingHtml(section));
      continue;
    }
    const { svg, warnings } = await renderChartSvg(section.name, section.spec);
    for (const w of warnings) options.onWarning?.(w);
    blocks.push(figureHtml(section, svg));
  }
  return `<section class="charts" aria-labelledby="${id}-title">
<h2 id="${id}-title">${escapeHtml(title)}</h2>
${before}<div class="charts-grid">
${blocks.join('\n')}
</div>
</section>`;
}

/** The page around a body: head with the CSP and the stylesheet, the body, a footer (text already escaped). */
export function pageHtml(title: string, body: string, footer: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main class="report">
${body}
<footer class="report-footer">${footer}</footer>
</main>
</body>
</html>
`;
}
