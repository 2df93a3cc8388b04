import type { TopLevelSpec } from 'vega-lite';
import { LIFECYCLE_STAGES, SEGMENT_NAMES } from '../../config/lists.js';
import type { ReportData } from '../data.js';
import { contrastText, fmt, orderedDomain, PALETTE, spec, tipEncoding } from './config.js';

/** Migration matrix between two runs: from (rows) × to (columns), counts as text. */
export function migrationSpec(migration: NonNullable<ReportData['migration']>): TopLevelSpec {
  const known = [...SEGMENT_NAMES, ...LIFECYCLE_STAGES];
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
