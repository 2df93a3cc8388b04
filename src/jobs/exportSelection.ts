import type { Engine, QueryEngine, RunHistory } from '../engine/Engine.js';
import type { Dialect } from '../engine/dialect.js';
import { runStatements } from '../engine/tables.js';
import { InputError, UsageError } from '../errors.js';
import { ORDER_BY, placeholders, SCORE_COLUMNS, SLIPPING_SQL, type ExportOrder } from './exportQueries.js';
import { SCORED_COLUMNS } from '../stages/scored/queries.js';
import { chooseColumns, type ColumnChoice, type ExportColumn } from './exportColumns.js';
import { LIFECYCLE_STAGES } from '../config/lists.js';
import { normalise } from '../config/columnMapping.js';
import { previousRunWithScores } from '../stages/history/stage.js';
import { resolveRun } from '../stages/history/runs.js';
import { DEFAULT_SEGMENT_MAP, expandCellPattern, readSegmentMap } from '../stages/rfm/segmentMap.js';

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
  /** The contacts' email column, when its name is not one crm knows (KNOWN_EMAIL_COLUMNS). */
  emailColumn?: string;
  suppress?: string;
  limit?: number;
  orderBy?: ExportOrder;
}

export interface ExportCounts {
  run: number;
  matched: number;
  withoutContact: number;
  /** With a contact row, but no usable email address in it (see usableEmailSql). */
  noAddress: number;
  suppressed: number;
  cutByLimit: number;
  written: number;
}

/** Names an email column goes by, best first, compared as transaction columns are (case, spaces, dashes, underscores ignored). */
export const KNOWN_EMAIL_COLUMNS = [
  'email', 'email_address', 'email_addr', 'mail', 'mail_address', 'contact_email', 'customer_email', 'primary_email',
  'courriel', 'adresse_email', 'adresse_mail', 'correo', 'correo_electronico',
] as const;
const emailRank = (column: string) => KNOWN_EMAIL_COLUMNS.findIndex((name) => normalise(name) === normalise(column));

/**
 * The contacts' email column: the one named by --email-col, else the best
 * known name among them. A file without one is mailed unchecked, so it is
 * said in a warning, as is a choice among several.
 */
export function pickEmailColumn(file: string, columns: readonly string[], idColumn: string, named: string | undefined): { column: string | null; warning?: string } {
  const candidates = columns.filter((c) => c !== idColumn);
  if (named !== undefined) {
    const column = candidates.find((c) => c === named) ?? candidates.find((c) => c.toLowerCase() === named.toLowerCase());
    if (named.toLowerCase() === idColumn.toLowerCase()) throw new UsageError(`--email-col ${named} is the customer id column of --contacts ${file}`);
    if (column === undefined) throw new UsageError(`--email-col ${named} is not a column of --contacts ${file} (columns: ${columns.join(', ')})`);
    return { column };
  }
  const found = candidates.filter((c) => emailRank(c) >= 0).sort((a, b) => emailRank(a) - emailRank(b));
  if (found.length === 0) {
    return { column: null, warning: `--contacts ${file} has no email column (columns: ${columns.join(', ')}): addresses were not checked; name it with --email-col` };
  }
  if (found.length === 1) return { column: found[0]! };
  return { column: found[0]!, warning: `--contacts ${file} has several email columns (${found.join(', ')}): addresses checked in ${found[0]}; name another with --email-col` };
}

/**
 * An address a mailing can use: something@something, no blank inside (spaces
 * around are tolerated). An empty or blank email, or a name or phone number
 * typed in the email column, is not one.
 */
const usableEmailSql = (d: Dialect, column: string) => `coalesce(${d.sql.fullMatch(`CAST(${column} AS VARCHAR)`, "'\\s*[^\\s@]+@[^\\s@]+\\s*'")}, false)`;

/** Column names a suppression list is recognised by. */
const SUPPRESS_COLUMN = /^(customer[_ ]?id|customer|id|value)$/i;
const isSuppressColumn = (column: string) => SUPPRESS_COLUMN.test(column) || emailRank(column) >= 0;

/**
 * Loads a suppression list into `suppressed_values` (lower-cased, trimmed):
 * every value of its recognised columns (customer_id, email, id, value, …),
 * or, for a file without such a header, every field of every line — a plain
 * list of ids or emails has no header, and its first line must not be lost.
 */
async function loadSuppressions(engine: ExportEngine, file: string): Promise<void> {
  const q = engine.dialect.quoteIdentifier;
  let use = (await engine.loadSideFile('suppressions', file)).filter(isSuppressColumn);
  // (Only a CSV file reads differently without a header.)
  if (use.length === 0) use = await engine.loadSideFile('suppressions', file, { header: false });
  await runStatements(
    engine,
    engine.dialect.createTempTableAs(
      'suppressed_values',
      `SELECT DISTINCT v FROM (${use.map((c) => `SELECT lower(trim(CAST(${q(c)} AS VARCHAR))) AS v FROM suppressions`).join(' UNION ALL ')}) listed
       WHERE v IS NOT NULL AND v <> ''`,
    ),
  );
}

/**
 * Emails in a suppression list can only be matched through the contacts'
 * email column: without one, those people would be mailed anyway.
 */
async function refuseEmailsWithoutContacts(engine: QueryEngine, f: ExportFilters): Promise<void> {
  const email = await engine.one<{ n: number }>(`SELECT count(*)::BIGINT AS n FROM suppressed_values WHERE strpos(v, '@') > 0`);
  if (email!.n === 0) return;
  throw new UsageError(
    f.contacts
      ? `--suppress ${f.suppress} lists email addresses, but --contacts ${f.contacts} has no email column to match them against`
      : `--suppress ${f.suppress} lists email addresses: give --contacts with an email column to match them against`,
  );
}

const union = (a: readonly string[], b: readonly string[]) => [...new Set([...a, ...b])];

/**
 * The segment names of a run's map: the default map's, or the user map the run
 * was scored with (when it can still be read), plus any name present in the run.
 */
async function segmentNames(engine: QueryEngine, history: RunHistory, runId: number): Promise<string[]> {
  const present = await distinctValues(engine, history, 'rfm_segment', runId);
  const row = await engine.one<{ map: string | null }>(
    `SELECT ${engine.dialect.sql.jsonText('options', ['rfm', 'segmentMap'])} AS map FROM ${history.qualifier}.runs WHERE run_id = $runId`,
    { runId },
  );
  let names: string[] = [];
  if (!row?.map) names = [...DEFAULT_SEGMENT_MAP.keys()];
  else names = await readSegmentMap(row.map).then((map) => [...map.keys()], () => []);
  return union(names, present);
}

const distinctValues = async (engine: QueryEngine, history: RunHistory, column: string, runId: number) =>
  (
    await engine.all<{ v: string }>(
      `SELECT DISTINCT CAST(${column} AS VARCHAR) AS v FROM ${history.qualifier}.customer_scores WHERE run_id = $runId AND ${column} IS NOT NULL ORDER BY v`,
      { runId },
    )
  ).map((r) => r.v);

/** The stages a run may have skipped (--no-clv, --no-lifecycle, --no-kmeans), each with the column that is empty without it and how it is told. */
const SKIPPABLE_STAGES = [
  { stage: 'clv', probe: 'clv', without: 'has no CLV (it was scored with --no-clv or the fit did not converge)' },
  { stage: 'lifecycle', probe: 'lifecycle_stage', without: 'has no lifecycle stages (it was scored with --no-lifecycle)' },
  { stage: 'clusters', probe: 'cluster', without: 'has no clusters (it was scored with --no-kmeans)' },
] as const;

type SkippableStage = (typeof SKIPPABLE_STAGES)[number];

/** The stages run `runId` skipped: those whose column is empty for every customer (one query for all of them). */
async function skippedStagesOf(engine: QueryEngine, history: RunHistory, runId: number): Promise<SkippableStage[]> {
  const counts = (await engine.one<Record<string, number>>(
    `SELECT ${SKIPPABLE_STAGES.map((s) => `count(${s.probe})::BIGINT AS ${s.stage}`).join(', ')} FROM ${history.qualifier}.customer_scores WHERE run_id = $runId`,
    { runId },
  ))!;
  return SKIPPABLE_STAGES.filter((s) => Number(counts[s.stage]) === 0);
}

/**
 * A column of a stage the run did not compute would be empty for every
 * customer: asked for by name (--columns), that is a usage error; the default
 * columns and `all` leave it out (they are the columns the run has).
 */
function withoutSkippedStages(runId: number, columns: ExportColumn[], choice: ColumnChoice, skippedStages: readonly SkippableStage[]): ExportColumn[] {
  const named = choice.columns?.length && !(choice.columns.length === 1 && choice.columns[0]!.trim().toLowerCase() === 'all');
  const skipped = new Set<string>();
  for (const stage of skippedStages) {
    const empty = columns.filter((c) => SCORED_COLUMNS.some((scored) => scored.name === c.name && scored.stage === stage.stage)).map((c) => c.name);
    if (named && empty.length) throw new UsageError(`--columns ${empty.join(', ')}: run ${runId} ${stage.without}; leave ${empty.length === 1 ? 'it' : 'them'} out, or export a run scored with that stage`);
    for (const name of empty) skipped.add(name);
  }
  return columns.filter((c) => !skipped.has(c.name));
}

/** What an export needs of its engine: queries, and the side files (contacts, suppressions) read into it. */
export type ExportEngine = QueryEngine & Pick<Engine, 'loadSideFile'>;

/**
 * Builds the `export_rows` table: the run's customers that pass the filters,
 * joined to contacts, less contacts without a usable email address, less
 * suppressed ids and emails, capped to the best `limit`; read it
 * `ORDER BY export_rank`. Each customer is counted once, under the first that
 * applies, so counts add up:
 * matched = without contact + no address + suppressed + cut by the limit + written.
 * `choice` picks and names the columns (exportColumns.ts); export_rows holds
 * those (and customer_id), and `columns` says in which order, under which headers.
 */
export async function buildExport(
  engine: ExportEngine,
  history: RunHistory,
  f: ExportFilters,
  choice: ColumnChoice = {},
): Promise<{ counts: ExportCounts; columns: ExportColumn[]; warnings: string[] }> {
  const q = engine.dialect.quoteIdentifier;
  if (f.emailColumn !== undefined && !f.contacts) throw new UsageError(`--email-col ${f.emailColumn} names a column of the contacts: give --contacts too`);
  const warnings: string[] = [];
  const h = history.qualifier;
  const runId = await resolveRun(engine, history, f.run);
  const params: Record<string, string | number> = { runId };
  const where: string[] = ['s.run_id = $runId'];

  // Valid names are those the run could have, not only those it has today: a nightly
  // export of a segment that happens to be empty writes an empty list, it does not fail.
  const checkKnown = async (flag: string, values: string[], known: readonly string[]) => {
    const unknown = values.filter((v) => !known.includes(v));
    if (unknown.length === 0) return;
    const valid = known.length ? known.join(', ') : 'none (the run was scored without this stage)';
    throw new UsageError(`${flag} ${unknown.map((u) => `"${u}"`).join(', ')} is not in run ${runId}; valid: ${valid}`);
  };
  if (f.segments.length) await checkKnown('--segment', f.segments, await segmentNames(engine, history, runId));
  if (f.stages.length) {
    const present = await distinctValues(engine, history, 'lifecycle_stage', runId);
    await checkKnown('--stage', f.stages, present.length ? union(LIFECYCLE_STAGES, present) : []);
  }
  if (f.clusters.length) {
    const clusters = (
      await engine.all<{ cluster: number; label: string | null }>(
        `SELECT DISTINCT cluster, cluster_label AS label FROM ${h}.customer_scores WHERE run_id = $runId AND cluster IS NOT NULL ORDER BY cluster`,
        { runId },
      )
    ).map((c) => ({ cluster: String(c.cluster), label: c.label }));
    const unknown = f.clusters.filter((v) => !clusters.some((c) => c.cluster === v || c.label === v));
    if (unknown.length) {
      const valid = clusters.length ? clusters.map((c) => `${c.cluster} (${c.label})`).join(', ') : 'none (the run has no k-means clusters)';
      throw new UsageError(`--cluster ${unknown.map((u) => `"${u}"`).join(', ')} is not in run ${runId}; valid: ${valid}`);
    }
  }
  for (const [flag, value] of [['--min-p-alive', f.minPAlive], ['--max-p-alive', f.maxPAlive]] as const) {
    if (value !== undefined && (value < 0 || value > 1)) throw new UsageError(`${flag} is a probability between 0 and 1, got ${value}`);
  }
  if (f.minPAlive !== undefined && f.maxPAlive !== undefined && f.minPAlive > f.maxPAlive) {
    throw new UsageError(`--min-p-alive ${f.minPAlive} is above --max-p-alive ${f.maxPAlive}: nothing can match`);
  }
  if (f.limit !== undefined && f.limit < 0) throw new UsageError(`--limit must be 0 or more, got ${f.limit}`);
  // A run scored with --no-clv has no CLV or P(alive): filtering or ordering on them would silently mean nothing.
  const skippedStages = await skippedStagesOf(engine, history, runId);
  const withoutClv = skippedStages.find((s) => s.stage === 'clv');
  const hasClv = withoutClv === undefined;
  if (withoutClv) {
    const needsClv = [
      f.minClv !== undefined && '--min-clv',
      f.minPAlive !== undefined && '--min-p-alive',
      f.maxPAlive !== undefined && '--max-p-alive',
      (f.orderBy === 'clv' || f.orderBy === 'p_alive') && `--order-by ${f.orderBy}`,
    ].filter(Boolean);
    if (needsClv.length) throw new UsageError(`${needsClv.join(', ')}: run ${runId} ${withoutClv.without}`);
  }
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
    const previous = await previousRunWithScores(engine, history, runId);
    if (previous === null) throw new UsageError(`--preset slipping needs a previous run with scores before run ${runId}`);
    params.previousRun = previous;
    where.push(SLIPPING_SQL(h, engine.dialect));
  }

  let contactColumns: string[] = [];
  let contactJoin = '';
  let hasContact = 'true';
  let hasAddress = 'true';
  let emailColumn: string | undefined;
  if (f.contacts) {
    const columns = await engine.loadSideFile('contacts', f.contacts);
    const idColumn = columns.find((c) => c.toLowerCase() === 'customer_id');
    if (!idColumn) throw new InputError(`${f.contacts}: needs a customer_id column (columns: ${columns.join(', ')})`);
    // Score columns win over contact columns of the same name (identifiers are case-insensitive).
    const taken = new Set(['customer_id', 'export_rank', 'has_contact', 'has_address', 'is_suppressed', ...SCORE_COLUMNS].map((c) => c.toLowerCase()));
    contactColumns = columns.filter((c) => c !== idColumn && !taken.has(c.toLowerCase()));
    const hidden = columns.filter((c) => c !== idColumn && taken.has(c.toLowerCase()));
    if (hidden.length) {
      warnings.push(`--contacts ${f.contacts}: ${hidden.join(', ')} ${hidden.length === 1 ? 'is a name' : 'are names'} of crm's own columns, which are written instead; rename ${hidden.length === 1 ? 'it' : 'them'} in the contacts file to export ${hidden.length === 1 ? 'it' : 'them'}`);
    }
    // One contact row per id; with duplicates, the same row every time (first by its values).
    const contactId = `trim(CAST(${q(idColumn)} AS VARCHAR))`;
    const tieBreak = contactColumns.map((c) => `${q(c)} NULLS LAST`).join(', ');
    const contactFields = columns.filter((c) => c !== idColumn).map((c) => `, ${q(c)}`).join('');
    contactJoin = `LEFT JOIN (SELECT DISTINCT ON (${contactId}) ${contactId} AS __crm_contact_id${contactFields} FROM contacts WHERE ${q(idColumn)} IS NOT NULL ORDER BY ${contactId}${tieBreak ? `, ${tieBreak}` : ''}) c ON c.__crm_contact_id = s.customer_id`;
    hasContact = `c.__crm_contact_id IS NOT NULL`;
    const email = pickEmailColumn(f.contacts, columns, idColumn, f.emailColumn);
    if (email.warning) warnings.push(email.warning);
    emailColumn = email.column ?? undefined;
    if (emailColumn) hasAddress = usableEmailSql(engine.dialect, `c.${q(emailColumn)}`);
  }
  // Checked before the export's tables are made: a misspelt column is a usage error, said before the work.
  const columns = withoutSkippedStages(
    runId,
    chooseColumns({ contactColumns, emailColumn: emailColumn && contactColumns.includes(emailColumn) ? emailColumn : undefined }, choice),
    choice,
    skippedStages,
  );
  const chosen = new Set(columns.map((c) => c.name));
  let suppressed = 'false';
  if (f.suppress) {
    await loadSuppressions(engine, f.suppress);
    if (!emailColumn) await refuseEmailsWithoutContacts(engine, f);
    const byEmail = emailColumn ? ` OR lower(trim(CAST(c.${q(emailColumn)} AS VARCHAR))) IN (SELECT v FROM suppressed_values)` : '';
    // coalesce: a blank email is NULL here, and NOT NULL would drop the row from every count.
    suppressed = `coalesce(lower(s.customer_id) IN (SELECT v FROM suppressed_values)${byEmail}, false)`;
  }

  const orderBy: ExportOrder = f.orderBy ?? (hasClv ? 'clv' : 'revenue');
  // The chosen score columns and the one --order-by ranks on; the chosen contact columns.
  const scoreColumns = SCORE_COLUMNS.filter((c) => chosen.has(c) || c === orderBy);
  const chosenContacts = contactColumns.filter((c) => chosen.has(c));
  const exportColumns = [...scoreColumns.map((c) => `s.${q(c)}`), ...chosenContacts.map((c) => `c.${q(c)}`)];
  await runStatements(
    engine,
    engine.dialect.createTempTableAs(
      'export_candidates',
      `SELECT s.customer_id, ${exportColumns.join(', ')}, ${hasContact} AS has_contact, ${hasAddress} AS has_address, ${suppressed} AS is_suppressed
       FROM ${h}.customer_scores s ${contactJoin}
       WHERE ${where.join(' AND ')}`,
    ),
    params,
  );
  const limit = f.limit ?? null;
  // export_rank is the output order: best first by --order-by, ties by customer id.
  const ranked = `SELECT row_number() OVER (ORDER BY ${ORDER_BY[orderBy]}, ${engine.dialect.byteOrder('customer_id')}) AS export_rank,
       ${['customer_id', ...columns.map((c) => c.name).filter((c) => c !== 'customer_id')].map(q).join(', ')}
     FROM export_candidates
     WHERE has_contact AND has_address AND NOT is_suppressed`;
  await runStatements(
    engine,
    engine.dialect.createTempTableAs('export_rows', limit !== null ? `SELECT * FROM (${ranked}) ranked WHERE export_rank <= $limit` : ranked),
    limit !== null ? { limit } : undefined,
  );
  // Two queries: Citus does not push down a subquery in the select list over distributed tables.
  const counts = (await engine.one<{ matched: number; without_contact: number; no_address: number; suppressed: number; eligible: number }>(
    `SELECT count(*)::BIGINT AS matched,
            count(*) FILTER (WHERE NOT has_contact)::BIGINT AS without_contact,
            count(*) FILTER (WHERE has_contact AND NOT has_address)::BIGINT AS no_address,
            count(*) FILTER (WHERE has_contact AND has_address AND is_suppressed)::BIGINT AS suppressed,
            count(*) FILTER (WHERE has_contact AND has_address AND NOT is_suppressed)::BIGINT AS eligible
     FROM export_candidates`,
  ))!;
  const { written } = (await engine.one<{ written: number }>(`SELECT count(*)::BIGINT AS written FROM export_rows`))!;
  return {
    counts: {
      run: runId,
      matched: counts.matched,
      withoutContact: counts.without_contact,
      noAddress: counts.no_address,
      suppressed: counts.suppressed,
      cutByLimit: counts.eligible - written,
      written,
    },
    columns,
    warnings,
  };
}
