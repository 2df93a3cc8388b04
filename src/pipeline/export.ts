import type { Engine } from '../engine/Engine.js';
import { InputError, UsageError } from '../errors.js';
import { EXPORT_COLUMNS, ORDER_BY, placeholders, SLIPPING_SQL, type ExportOrder } from '../sql/export.js';
import { readerKindOf } from './load.js';
import { resolveRun } from './runs.js';
import { expandCellPattern } from './segmentMap.js';

export interface ExportFilters {
  run?: number;
  segments: string[];
  cells: string[];
  stages: string[];
  clusters: string[];
  minClv?: number;
  minPAlive?: number;
  maxPAlive?: number;
  preset?: 'slipping';
  contacts?: string;
  suppress?: string;
  limit?: number;
  orderBy?: ExportOrder;
}

export interface ExportCounts {
  run: number;
  matched: number;
  withoutContact: number;
  suppressed: number;
  cutByLimit: number;
  written: number;
}

async function loadSideFile(engine: Engine, table: string, file: string): Promise<string[]> {
  const kind = readerKindOf(file);
  const reader = kind === 'parquet' ? 'read_parquet($path)' : kind === 'ndjson' ? "read_json($path, format = 'newline_delimited')" : 'read_csv($path, all_varchar = true)';
  try {
    await engine.run(`CREATE OR REPLACE TEMP TABLE ${table} AS SELECT * FROM ${reader}`, { path: file });
  } catch (error) {
    throw new InputError(`${file}: cannot be read (${(error as Error).message.split('\n')[0]})`);
  }
  return (await engine.all<{ column_name: string }>(`DESCRIBE ${table}`)).map((c) => c.column_name);
}

const distinctValues = async (engine: Engine, column: string, runId: number) =>
  (await engine.all<{ v: string }>(`SELECT DISTINCT CAST(${column} AS VARCHAR) AS v FROM history.customer_scores WHERE run_id = $runId AND ${column} IS NOT NULL ORDER BY v`, { runId })).map((r) => r.v);

/**
 * Builds the `export_rows` table: the run's customers that pass the filters,
 * joined to contacts, less suppressed ids and emails, ordered and capped.
 */
export async function buildExport(engine: Engine, f: ExportFilters): Promise<{ counts: ExportCounts; columns: string[] }> {
  const q = engine.dialect.quoteIdentifier;
  const runId = await resolveRun(engine, f.run);
  const params: Record<string, string | number> = { runId };
  const where: string[] = ['s.run_id = $runId'];

  const checkKnown = async (flag: string, column: string, values: string[]) => {
    if (values.length === 0) return;
    const known = await distinctValues(engine, column, runId);
    const unknown = values.filter((v) => !known.includes(v));
    if (unknown.length) throw new UsageError(`${flag} ${unknown.map((u) => `"${u}"`).join(', ')} is not in run ${runId}; valid: ${known.join(', ')}`);
  };
  await checkKnown('--segment', 'rfm_segment', f.segments);
  await checkKnown('--stage', 'lifecycle_stage', f.stages);
  const bind = (prefix: string, values: readonly (string | number)[]) => {
    values.forEach((v, i) => (params[`${prefix}${i}`] = v));
    return placeholders(prefix, values.length);
  };
  if (f.segments.length) where.push(`s.rfm_segment IN (${bind('segment', f.segments)})`);
  if (f.stages.length) where.push(`s.lifecycle_stage IN (${bind('stage', f.stages)})`);
  if (f.cells.length) where.push(`s.rfm_cell IN (${bind('cell', [...new Set(f.cells.flatMap(expandCellPattern))])})`);
  if (f.clusters.length) where.push(`(CAST(s.cluster AS VARCHAR) IN (${bind('clusterId', f.clusters)}) OR s.cluster_label IN (${bind('clusterLabel', f.clusters)}))`);
  if (f.minClv !== undefined) (params.minClv = f.minClv), where.push('s.clv >= $minClv');
  if (f.minPAlive !== undefined) (params.minPAlive = f.minPAlive), where.push('s.p_alive >= $minPAlive');
  if (f.maxPAlive !== undefined) (params.maxPAlive = f.maxPAlive), where.push('s.p_alive <= $maxPAlive');
  if (f.preset === 'slipping') {
    const previous = await engine.one<{ run_id: number | null }>(`SELECT max(run_id)::BIGINT AS run_id FROM history.runs WHERE run_id < $runId AND scores_kept`, { runId });
    if (!previous?.run_id) throw new UsageError(`--preset slipping needs a previous run with scores before run ${runId}`);
    params.previousRun = previous.run_id;
    where.push(SLIPPING_SQL);
  }

  let contactColumns: string[] = [];
  let contactJoin = '';
  let hasContact = 'true';
  if (f.contacts) {
    const columns = await loadSideFile(engine, 'contacts', f.contacts);
    const idColumn = columns.find((c) => c.toLowerCase() === 'customer_id');
    if (!idColumn) throw new InputError(`${f.contacts}: needs a customer_id column (columns: ${columns.join(', ')})`);
    contactColumns = columns.filter((c) => c !== idColumn && !(EXPORT_COLUMNS as readonly string[]).includes(c));
    contactJoin = `LEFT JOIN (SELECT DISTINCT ON (CAST(${q(idColumn)} AS VARCHAR)) * FROM contacts ORDER BY CAST(${q(idColumn)} AS VARCHAR)) c ON CAST(c.${q(idColumn)} AS VARCHAR) = s.customer_id`;
    hasContact = `c.${q(idColumn)} IS NOT NULL`;
  }
  let suppressed = 'false';
  if (f.suppress) {
    const columns = await loadSideFile(engine, 'suppressions', f.suppress);
    const column = columns.find((c) => /^(customer_id|email|id|value)$/i.test(c)) ?? columns[0]!;
    await engine.run(`CREATE OR REPLACE TEMP TABLE suppressed_values AS SELECT DISTINCT lower(trim(CAST(${q(column)} AS VARCHAR))) AS v FROM suppressions WHERE ${q(column)} IS NOT NULL`);
    const emailColumn = contactColumns.find((c) => /^e-?mail$/i.test(c));
    suppressed = `(lower(s.customer_id) IN (SELECT v FROM suppressed_values)${emailColumn ? ` OR lower(trim(c.${q(emailColumn)})) IN (SELECT v FROM suppressed_values)` : ''})`;
  }

  const orderBy = f.orderBy ?? 'clv';
  const exportColumns = [...EXPORT_COLUMNS.map((c) => `s.${q(c)}`), ...contactColumns.map((c) => `c.${q(c)}`)];
  await engine.run(
    `CREATE OR REPLACE TEMP TABLE export_candidates AS
     SELECT s.customer_id, ${exportColumns.join(', ')}, ${hasContact} AS has_contact, ${suppressed} AS is_suppressed
     FROM history.customer_scores s ${contactJoin}
     WHERE ${where.join(' AND ')}`,
    params,
  );
  const limit = f.limit ?? null;
  await engine.run(
    `CREATE OR REPLACE TEMP TABLE export_rows AS
     SELECT * EXCLUDE (has_contact, is_suppressed) FROM export_candidates
     WHERE has_contact AND NOT is_suppressed
     ORDER BY ${ORDER_BY[orderBy]}, customer_id
     ${limit !== null ? 'LIMIT $limit' : ''}`,
    limit !== null ? { limit } : undefined,
  );
  const counts = (await engine.one<{ matched: number; without_contact: number; suppressed: number; eligible: number; written: number }>(
    `SELECT count(*)::BIGINT AS matched,
            count(*) FILTER (WHERE NOT has_contact)::BIGINT AS without_contact,
            count(*) FILTER (WHERE has_contact AND is_suppressed)::BIGINT AS suppressed,
            count(*) FILTER (WHERE has_contact AND NOT is_suppressed)::BIGINT AS eligible,
            (SELECT count(*) FROM export_rows)::BIGINT AS written
     FROM export_candidates`,
  ))!;
  return {
    counts: {
      run: runId,
      matched: counts.matched,
      withoutContact: counts.without_contact,
      suppressed: counts.suppressed,
      cutByLimit: counts.eligible - counts.written,
      written: counts.written,
    },
    columns: ['customer_id', ...contactColumns, ...EXPORT_COLUMNS],
  };
}
