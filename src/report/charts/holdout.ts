import type { TopLevelSpec } from 'vega-lite';
import type { Holdout } from '../data.js';
import { fmt, PALETTE, spec, tipEncoding } from './config.js';

const SERIES = ['Actual', 'Model'];
const color = {
  field: 'series',
  type: 'nominal',
  title: null,
  scale: { domain: SERIES, range: [PALETTE.text, PALETTE.primary] },
  legend: { orient: 'top', direction: 'horizontal' },
};
const dash = { field: 'series', type: 'nominal', title: null, scale: { domain: SERIES, range: [[1, 0], [6, 4]] } };

/** Mean holdout purchases by calibration frequency, actual and predicted (lifetimes' plot_calibration_purchases_vs_holdout_purchases). */
export function calibrationHoldoutSpec(holdout: Holdout): TopLevelSpec {
  const order = holdout.byFrequency.map((b) => b.frequency);
  const values = holdout.byFrequency.flatMap((b) => [
    { frequency: b.frequency, series: SERIES[0], mean: b.actualMean, tip: `${b.frequency} calibration purchases (${fmt.int(b.customers)} customers): ${b.actualMean.toFixed(3)} holdout purchases each, actual` },
    ...(b.predictedMean === null
      ? []
      : [{ frequency: b.frequency, series: SERIES[1], mean: b.predictedMean, tip: `${b.frequency} calibration purchases (${fmt.int(b.customers)} customers): ${b.predictedMean.toFixed(3)} holdout purchases each, predicted` }]),
  ]);
  const x = { field: 'frequency', type: 'ordinal', sort: order, title: 'Repeat purchases in the calibration period', axis: { labelAngle: 0 } };
  const y = { field: 'mean', type: 'quantitative', title: 'Mean purchases in the holdout' };
  return spec({
    description: 'Mean holdout purchases by calibration purchases, actual and predicted',
    width: 440,
    height: 260,
    data: { values },
    encoding: { x, y, color },
    layer: [{ mark: { type: 'line', strokeWidth: 2, aria: false }, encoding: { strokeDash: dash } }, { mark: { type: 'point', filled: true, size: 46 }, encoding: tipEncoding }],
  });
}

/** Cumulative repeat purchases week by week over the holdout, actual and expected (CLVTools' tracking plot). */
export function trackingSpec(holdout: Holdout): TopLevelSpec {
  const start = [{ week: 0, series: SERIES[0], purchases: 0, tip: 'Calibration end' }];
  const values = [
    ...start,
    ...(holdout.tracking.some((t) => t.expected !== null) ? [{ ...start[0], series: SERIES[1] }] : []),
    ...holdout.tracking.flatMap((t) => [
      { week: t.week, series: SERIES[0], purchases: t.actual, tip: `Week ${t.week} (day ${t.day}): ${fmt.int(t.actual)} repeat purchases so far, actual` },
      ...(t.expected === null ? [] : [{ week: t.week, series: SERIES[1], purchases: t.expected, tip: `Week ${t.week} (day ${t.day}): ${t.expected.toFixed(1)} repeat purchases so far, expected` }]),
    ]),
  ];
  const weeks = holdout.tracking.length;
  return spec({
    description: 'Cumulative repeat purchases over the holdout, actual and expected',
    width: 440,
    height: 260,
    data: { values },
    encoding: {
      x: { field: 'week', type: 'quantitative', title: `Weeks after ${holdout.calibrationEnd}`, scale: { domain: [0, Math.max(1, weeks)], nice: false } },
      y: { field: 'purchases', type: 'quantitative', title: 'Cumulative repeat purchases', axis: { format: '~s' } },
      color,
    },
    layer: [{ mark: { type: 'line', strokeWidth: 2, aria: false }, encoding: { strokeDash: dash } }, { mark: { type: 'point', filled: true, size: 18 }, encoding: tipEncoding }],
  });
}
