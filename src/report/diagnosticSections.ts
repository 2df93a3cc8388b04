/** The page's model diagnostics (how well the purchase model fits, in and after the calibration period) and its runs across the history. */
import { historyKpisSpec, historySharesSpec } from './charts/history.js';
import { calibrationHoldoutSpec, trackingSpec } from './charts/holdout.js';
import { modelMatrixSpec } from './charts/modelMatrix.js';
import { pAliveSpec } from './charts/pAlive.js';
import { periodTransactionsSpec } from './charts/periodTransactions.js';
import type { Holdout, ReportData } from './data.js';
import { escapeHtml, formatInt, moneyFmt } from './format.js';
import { has, type ChartSection } from './sections.js';

/** The model's own checks: how well it describes the calibration period and, with a holdout, the period after. */
export function diagnosticSections(data: ReportData): ChartSection[] {
  const m = data.modelMatrix;
  const noModel = 'No purchase model was fitted or it did not converge.';
  return [
    {
      name: 'period-transactions',
      title: 'Repeat purchases: actual vs model',
      caption:
        'Customers by number of repeat purchases up to the as-of date, as counted (grey) and as the fitted model expects for customers of the same ages (blue): where the bars match, the model describes how often people buy; a gap at 0 or 7+ means it misjudges one-time or heavy buyers.',
      spec: has(data.periodTransactions) && data.periodTransactions.some((r) => r.expected !== null) ? periodTransactionsSpec(data.periodTransactions) : null,
      missing: noModel,
    },
    {
      name: 'p-alive',
      title: 'P(alive) distribution',
      caption:
        'Customers by their probability of still being active: a large group near 0 is a base that has mostly left; with BG/NBD every one-time buyer sits at 1 by construction (MBG/NBD does not have this flaw).',
      spec: has(data.pAliveHistogram) ? pAliveSpec(data.pAliveHistogram) : null,
      missing: 'This run has no P(alive).',
    },
    {
      name: 'p-alive-matrix',
      title: 'P(alive) by frequency and recency',
      caption: m
        ? `P(alive) of a customer whose first purchase was ${formatInt(m.T)} ${m.timeUnit}s ago (the oldest in this run), by repeat purchases (rows, up to the 99th percentile, ${formatInt(m.maxFrequency)}) and recency (columns; right = last purchase recent): frequent buyers who stopped long ago (top left) have most likely left.`
        : '',
      spec: m ? modelMatrixSpec(m, 'pAlive') : null,
      missing: noModel,
    },
    {
      name: 'frequency-recency-matrix',
      title: 'Expected purchases by frequency and recency',
      caption: m
        ? `Expected purchases in the next ${m.horizonMonths} months (the CLV horizon) for the same customers of age ${formatInt(m.T)} ${m.timeUnit}s: the best prospects are frequent and recent (top right); ${m.model} fit of this run.`
        : '',
      spec: m ? modelMatrixSpec(m, 'expectedPurchases') : null,
      missing: noModel,
    },
    ...holdoutSections(data.holdout, 'This run had no holdout (crm score --holdout-days N, or crm backtest --report).'),
  ];
}

/** Calibration vs holdout purchases and the tracking curve of a holdout check. */
export function holdoutSections(holdout: Holdout | null, missing: string): ChartSection[] {
  const period = holdout ? ` (${holdout.model}, calibration to ${holdout.calibrationEnd}, holdout to ${holdout.holdoutEnd})` : '';
  // A fit that did not converge predicts nothing: there is no model line to compare with.
  const nothingPredicted = 'The model predicted nothing for this holdout (its fit did not converge).';
  const predicted = holdout !== null && holdout.byFrequency.some((b) => b.predictedMean !== null);
  const tracked = holdout !== null && holdout.tracking.some((t) => t.expected !== null);
  return [
    {
      name: 'calibration-holdout',
      title: 'Calibration vs holdout purchases',
      caption: `Mean purchases in the holdout by repeat purchases in the calibration period${period}, actual (solid) and predicted (dashed): the closer the lines, the better the model ranks customers for the future.`,
      spec: predicted ? calibrationHoldoutSpec(holdout) : null,
      missing: holdout && has(holdout.byFrequency) ? nothingPredicted : missing,
    },
    {
      name: 'tracking',
      title: 'Tracking: cumulative repeat purchases',
      caption: `Cumulative repeat purchases of the calibration customers, week by week after the calibration end, actual (solid) and expected (dashed)${period}: a widening gap means the purchase rate drifted away from the model's.`,
      spec: tracked ? trackingSpec(holdout!) : null,
      missing: !holdout ? missing : has(holdout.tracking) ? nothingPredicted : 'This holdout was recorded without its weekly tracking.',
    },
  ];
}

export function historySections(data: ReportData): ChartSection[] {
  const h = data.history;
  const several = h !== null && h.runs.length > 1;
  const single = 'There is only one run in the history so far.';
  return [
    {
      name: 'history-kpis',
      title: 'Key figures per run',
      caption:
        'Customers, revenue, mean P(alive) and total predicted CLV of each run (as of its date), oldest first; the shaded bar is the 90% interval of the total CLV when the run recorded one. Read the trend, not one point.',
      wide: true,
      spec: several ? historyKpisSpec(h) : null,
      missing: single,
    },
    {
      name: 'history-segments',
      title: 'Segments per run',
      caption: 'Share of customers per RFM segment in each run, best segments on the left: a growing right-hand (red) end means the base is slipping.',
      spec: several && has(h.segments) ? historySharesSpec(h, 'segment') : null,
      missing: single,
    },
    {
      name: 'history-stages',
      title: 'Lifecycle stages per run',
      caption: 'Share of customers per lifecycle stage in each run, from new to lost: more at risk, lapsed and lost from one run to the next is churn building up.',
      spec: several && has(h.stages) ? historySharesSpec(h, 'stage') : null,
      missing: several ? 'These runs have no lifecycle stages.' : single,
    },
  ];
}

/** The runs of the history as a table, newest last. */
export function historyTableHtml(data: ReportData): string {
  const h = data.history;
  if (!h || h.runs.length === 0) return '';
  const cell = (v: number | null, f: (n: number) => string) => (v === null ? '<span class="muted">—</span>' : escapeHtml(f(v)));
  const rows = h.runs.map(
    (r) =>
      `<tr${r.runId === data.run.id ? ' class="current"' : ''}><th scope="row">#${escapeHtml(r.runId)}</th><td>${escapeHtml(r.asOf)}</td><td>${escapeHtml(r.model ?? '—')}</td><td class="num">${escapeHtml(formatInt(r.customers))}</td><td class="num">${cell(r.revenue, (n) => moneyFmt.format(n))}</td><td class="num">${cell(r.meanPAlive, (n) => n.toFixed(3))}</td><td class="num">${cell(r.totalClv, (n) => moneyFmt.format(n))}</td><td class="num">${r.clvInterval ? escapeHtml(`${moneyFmt.format(r.clvInterval.low)} – ${moneyFmt.format(r.clvInterval.high)}`) : '<span class="muted">—</span>'}</td></tr>`,
  );
  return `<div class="fit runs-table"><table class="fit-table">
<thead><tr><th scope="col">Run</th><th scope="col">As of</th><th scope="col">Model</th><th scope="col" class="num">Customers</th><th scope="col" class="num">Revenue</th><th scope="col" class="num">Mean P(alive)</th><th scope="col" class="num">Total CLV</th><th scope="col" class="num">90% interval</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table></div>`;
}

