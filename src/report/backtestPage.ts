/**
 * The page of `crm backtest --report`: the holdout check's key figures and
 * its two charts (calibration vs holdout purchases, the tracking curve), in
 * the report's self-contained page.
 */
import type { Holdout } from './data.js';
import { escapeHtml, formatInt } from './format.js';
import { chartGroupHtml, pageHtml, type RenderReportOptions } from './page.js';
import { holdoutSections } from './diagnosticSections.js';

export async function renderBacktestReport(holdout: Holdout, warnings: readonly string[], options: RenderReportOptions = {}): Promise<string> {
  const title = `crm backtest — ${holdout.model}, calibration to ${holdout.calibrationEnd}, holdout to ${holdout.holdoutEnd}`;
  const fixed = (x: number | null, digits: number) => (x === null ? 'n/a' : x.toFixed(digits));
  const kpis: [string, string][] = [
    ['Customers', formatInt(holdout.customers)],
    ['Actual purchases', formatInt(holdout.actualTotal)],
    ['Predicted purchases', fixed(holdout.predictedTotal, 1)],
    ['Mean absolute error', fixed(holdout.mae, 4)],
    ['Time unit', holdout.timeUnit],
  ];
  const header = `<header class="report-header">
<p class="eyebrow">crm · CLV model backtest</p>
<h1>${escapeHtml(title)}</h1>
<p class="run-meta">The model is fitted on the purchases up to <strong>${escapeHtml(holdout.calibrationEnd)}</strong> and predicts each customer's purchases up to <strong>${escapeHtml(holdout.holdoutEnd)}</strong>; the charts compare the predictions with what happened.</p>
<dl class="kpis">
${kpis.map(([label, value]) => `<div class="kpi"><dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd></div>`).join('\n')}
</dl>
${warnings.map((w) => `<p class="warning">${escapeHtml(w)}</p>`).join('\n')}
</header>`;
  const charts = await chartGroupHtml('backtest', 'Predicted vs actual', holdoutSections(holdout, 'The backtest has no holdout purchases to compare.'), options);
  return pageHtml(title, `${header}\n${charts}`, `crm backtest · ${escapeHtml(holdout.model)} · ${escapeHtml(holdout.calibrationEnd)} → ${escapeHtml(holdout.holdoutEnd)}`);
}
