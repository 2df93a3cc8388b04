import type { TopLevelSpec } from 'vega-lite';
import type { ReportData } from '../data.js';
import { fmt, PALETTE, spec, tipEncoding } from './config.js';

/**
 * P(alive) or expected purchases over frequency (rows) × recency (columns)
 * for a customer of the run's largest T (lifetimes' plot_probability_alive_matrix
 * and plot_frequency_recency_matrix).
 */
export function modelMatrixSpec(matrix: NonNullable<ReportData['modelMatrix']>, metric: 'pAlive' | 'expectedPurchases'): TopLevelSpec {
  const recencies = [...new Set(matrix.cells.filter((c) => c.frequency > 0).map((c) => c.recency))].sort((a, b) => a - b);
  const step = recencies.length > 1 ? recencies[1] - recencies[0] : matrix.T || 1;
  const frequencies = [...new Set(matrix.cells.map((c) => c.frequency))].sort((a, b) => b - a).map(String);
  const unit = matrix.timeUnit;
  const what = metric === 'pAlive' ? 'P(alive)' : `expected purchases in ${matrix.horizonMonths} months`;
  const values = matrix.cells.map((c) => ({
    frequency: String(c.frequency),
    // The cell of a recency covers the step up to it; frequency 0 has recency 0 only.
    recencyStart: c.frequency === 0 ? 0 : c.recency - step,
    recencyEnd: c.frequency === 0 ? step : c.recency,
    value: c[metric],
    tip:
      c.frequency === 0
        ? `No repeat purchase, first purchase ${fmt.int(matrix.T)} ${unit}s ago: ${what} ${format(c[metric], metric)}`
        : `${c.frequency} repeat purchases, the last ${(matrix.T - c.recency).toFixed(1)} ${unit}s ago (recency ${c.recency.toFixed(1)}): ${what} ${format(c[metric], metric)}`,
  }));
  const max = Math.max(...values.map((v) => v.value), 1e-9);
  return spec({
    description: `${what} by frequency and recency`,
    width: 400,
    height: Math.max(160, frequencies.length * 13),
    data: { values },
    mark: { type: 'rect' },
    encoding: {
      x: {
        field: 'recencyStart',
        type: 'quantitative',
        title: `Recency (${unit}s from first to last purchase)`,
        scale: { domain: [0, matrix.T], nice: false },
        axis: { tickCount: 8, format: '~r' },
      },
      x2: { field: 'recencyEnd' },
      y: { field: 'frequency', type: 'ordinal', sort: frequencies, title: 'Frequency (repeat purchases)', axis: { labelFontSize: 10 } },
      color: {
        field: 'value',
        type: 'quantitative',
        title: metric === 'pAlive' ? 'P(alive)' : 'Expected',
        scale: metric === 'pAlive' ? { scheme: PALETTE.sequential, domain: [0, 1] } : { scheme: PALETTE.sequential, domain: [0, max], nice: false },
        legend: { format: metric === 'pAlive' ? '.1f' : '.2~f', gradientLength: 160 },
      },
      ...tipEncoding,
    },
  });
}

function format(v: number, metric: 'pAlive' | 'expectedPurchases'): string {
  return metric === 'pAlive' ? v.toFixed(3) : v.toFixed(2);
}
