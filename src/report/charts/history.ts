import type { TopLevelSpec } from 'vega-lite';
import { LIFECYCLE_STAGES, SEGMENT_NAMES } from '../../config/lists.js';
import type { ReportData } from '../data.js';
import { fmt, orderedDomain, PALETTE, SI, spec, tipEncoding } from './config.js';

type History = NonNullable<ReportData['history']>;

const runLabel = (r: { runId: number; asOf: string }) => `#${r.runId} · ${r.asOf}`;

/** Customers, revenue, mean P(alive) and total CLV (with its 90% interval when recorded) per run: small panels. */
export function historyKpisSpec(history: History): TopLevelSpec {
  const labels = history.runs.map(runLabel);
  const metrics: { key: 'customers' | 'revenue' | 'meanPAlive' | 'totalClv'; title: string; format: (n: number) => string }[] = [
    { key: 'customers', title: 'Customers', format: fmt.int },
    { key: 'revenue', title: 'Revenue', format: fmt.amount },
    { key: 'meanPAlive', title: 'Mean P(alive)', format: (n) => n.toFixed(3) },
    { key: 'totalClv', title: 'Total predicted CLV', format: fmt.amount },
  ];
  const values = history.runs.flatMap((r) =>
    metrics
      .filter((m) => r[m.key] !== null)
      .map((m) => {
        const interval = m.key === 'totalClv' ? r.clvInterval : null;
        return {
          run: runLabel(r),
          metric: m.key,
          value: r[m.key] as number,
          low: interval?.low ?? null,
          high: interval?.high ?? null,
          tip: `Run ${r.runId} (as of ${r.asOf}): ${m.title.toLowerCase()} ${m.format(r[m.key] as number)}${interval ? ` (90% interval ${m.format(interval.low)} – ${m.format(interval.high)})` : ''}`,
        };
      }),
  );
  const panels = metrics.map((m) => {
    const x = { field: 'run', type: 'ordinal', sort: labels, title: null, scale: { domain: labels }, axis: { labelAngle: -30, labelAlign: 'right', labelLimit: 120 } };
    const y = {
      field: 'value',
      type: 'quantitative',
      title: null,
      axis: m.key === 'meanPAlive' ? { format: '.2f', tickCount: 5 } : SI,
      scale: m.key === 'meanPAlive' ? { domain: [0, 1] } : { zero: true },
    };
    const layer: Record<string, unknown>[] = [];
    if (m.key === 'totalClv' && values.some((v) => v.metric === 'totalClv' && v.low !== null)) {
      layer.push({
        transform: [{ filter: 'datum.low !== null' }],
        mark: { type: 'rule', strokeWidth: 10, opacity: 0.25, color: PALETTE.primary, aria: false },
        encoding: { x, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } },
      });
    }
    layer.push(
      { mark: { type: 'line', strokeWidth: 2, color: PALETTE.primary, aria: false }, encoding: { x, y } },
      { mark: { type: 'point', filled: true, size: 50, color: PALETTE.primary }, encoding: { x, y, ...tipEncoding } },
    );
    return {
      width: 200,
      height: 140,
      title: { text: m.title, fontSize: 12, fontWeight: 600, color: '#374151', anchor: 'start', offset: 6 },
      transform: [{ filter: { field: 'metric', equal: m.key } }],
      layer,
    };
  });
  return spec({
    description: 'Customers, revenue, mean P(alive) and total CLV per run',
    data: { values },
    spacing: 18,
    vconcat: [{ hconcat: panels, spacing: 28 }],
  });
}

/** Share of customers per segment or lifecycle stage, one stacked bar per run. */
export function historySharesSpec(history: History, by: 'segment' | 'stage'): TopLevelSpec {
  const rows = by === 'segment' ? history.segments.map((s) => ({ ...s, group: s.segment })) : history.stages.map((s) => ({ ...s, group: s.stage.replace(/_/g, ' ') }));
  const known: readonly string[] = by === 'segment' ? SEGMENT_NAMES : LIFECYCLE_STAGES.map((s) => s.replace(/_/g, ' '));
  const domain = orderedDomain(
    rows.map((r) => r.group),
    known,
  );
  const asOf = new Map(history.runs.map((r) => [r.runId, r.asOf]));
  const labels = history.runs.map(runLabel);
  const values = rows.map((r) => ({
    run: runLabel({ runId: r.runId, asOf: asOf.get(r.runId) ?? '' }),
    group: r.group,
    order: domain.indexOf(r.group),
    share: r.share,
    tip: `Run ${r.runId}: ${r.group}, ${fmt.int(r.customers)} customers (${fmt.pct(r.share)})`,
  }));
  const range =
    by === 'stage'
      ? domain.map((s) => PALETTE.stages[s.replace(/ /g, '_')] ?? PALETTE.secondary)
      : domain.map((g, i) => SEGMENT_COLOURS[(known.includes(g) ? known.indexOf(g) : i) % SEGMENT_COLOURS.length]);
  return spec({
    description: `Share of customers per ${by} in each run`,
    width: 440,
    height: Math.max(60, labels.length * 34),
    data: { values },
    mark: { type: 'bar', height: { band: 0.7 } },
    encoding: {
      y: { field: 'run', type: 'ordinal', sort: labels, title: null, axis: { ticks: false, domain: false } },
      x: { field: 'share', type: 'quantitative', stack: 'zero', title: 'Share of customers', axis: { format: '.0%' }, scale: { domain: [0, 1] } },
      color: { field: 'group', type: 'nominal', title: null, sort: domain, scale: { domain, range }, legend: { orient: 'bottom', columns: 4, labelLimit: 130 } },
      order: { field: 'order', type: 'quantitative' },
      ...tipEncoding,
    },
  });
}

/** Eleven segments, best to worst: greens and blues, then ambers and reds. */
const SEGMENT_COLOURS = ['#1d4ed8', '#3b82f6', '#60a5fa', '#93c5fd', '#10b981', '#a3e635', '#fcd34d', '#f59e0b', '#f97316', '#ef4444', '#991b1b'];
