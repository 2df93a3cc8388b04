import { UsageError } from '../errors.js';
import { DEFAULT_SCORE_COLUMNS, SCORE_COLUMNS } from './exportQueries.js';

/** What the user asked of an export's columns: --columns (names, or `all`) and --rename old=new, each repeatable or a comma list. */
export interface ColumnChoice {
  columns?: readonly string[];
  renames?: readonly string[];
}

/** One column of the written file: its name in export_rows, and the header it is written under. */
export interface ExportColumn {
  name: string;
  header: string;
}

/** What an export can write: the contacts' columns (joined with --contacts) beside the id and the score columns. */
export interface AvailableColumns {
  contactColumns: readonly string[];
  /** The contacts' email column (one of contactColumns), written first by default: mailing tools key on it. */
  emailColumn?: string;
}

/** A comma list or repeated flag as names: `a,b` and `--x a --x b` alike, blanks around names dropped. */
const splitList = (flag: string, values: readonly string[]): string[] =>
  values.flatMap((value) =>
    value.split(',').map((name) => {
      const trimmed = name.trim();
      if (trimmed === '') throw new UsageError(`${flag} ${JSON.stringify(value)} has an empty name`);
      return trimmed;
    }),
  );

/** The column `name` means: the one of that exact name, else the only one of that name in another case. */
function findColumn(name: string, among: readonly string[]): string | undefined {
  if (among.includes(name)) return name;
  const found = among.filter((c) => c.toLowerCase() === name.toLowerCase());
  return found.length === 1 ? found[0] : undefined;
}

/**
 * The export's columns in order, with their headers. Without --columns: the
 * email first (when the contacts have one), the customer id, the other
 * contact columns, then DEFAULT_SCORE_COLUMNS; `--columns all` puts every
 * score column there instead. Unknown, repeated or clashing names are usage
 * errors that list what exists.
 */
export function chooseColumns(available: AvailableColumns, choice: ColumnChoice): ExportColumn[] {
  const { contactColumns, emailColumn } = available;
  const contactsFirst = [...(emailColumn ? [emailColumn] : []), 'customer_id', ...contactColumns.filter((c) => c !== emailColumn)];
  const every = [...contactsFirst, ...SCORE_COLUMNS];
  const unknown = (flag: string, names: readonly string[]) =>
    new UsageError(
      `${flag} ${names.map((n) => JSON.stringify(n)).join(', ')}: no such column; the columns are ${every.join(', ')}` +
        (contactColumns.length === 0 ? ' (and, with --contacts, those of the contacts file)' : ''),
    );

  const asked = choice.columns?.length ? splitList('--columns', choice.columns) : undefined;
  let names: string[];
  if (asked === undefined) names = [...contactsFirst, ...DEFAULT_SCORE_COLUMNS];
  else if (asked.length === 1 && asked[0]!.toLowerCase() === 'all') names = every;
  else {
    if (asked.some((n) => n.toLowerCase() === 'all')) throw new UsageError(`--columns all stands alone: it means every column (${every.join(', ')})`);
    const missing = asked.filter((n) => findColumn(n, every) === undefined);
    if (missing.length) throw unknown('--columns', missing);
    names = asked.map((n) => findColumn(n, every)!);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) throw new UsageError(`--columns lists ${twice} twice`);
  }

  const headers = new Map(names.map((n) => [n, n]));
  const renamed = new Set<string>();
  for (const pair of choice.renames?.length ? splitList('--rename', choice.renames) : []) {
    const at = pair.indexOf('=');
    const from = pair.slice(0, at).trim();
    const to = pair.slice(at + 1).trim();
    if (at < 0 || from === '' || to === '') throw new UsageError(`--rename ${JSON.stringify(pair)}: give old=new, e.g. --rename clv=predicted_value`);
    const column = findColumn(from, names);
    if (column === undefined) {
      if (findColumn(from, every) === undefined) throw unknown('--rename', [from]);
      throw new UsageError(`--rename ${pair}: ${from} is not among the exported columns (${names.join(', ')}); add it to --columns`);
    }
    if (renamed.has(column)) throw new UsageError(`--rename renames ${column} twice`);
    renamed.add(column);
    headers.set(column, to);
  }
  // Headers compared as the engines compare column names: without case.
  const byHeader = new Map<string, string>();
  for (const name of names) {
    const header = headers.get(name)!;
    const other = byHeader.get(header.toLowerCase());
    if (other !== undefined) {
      throw new UsageError(`--rename: ${other} and ${name} would both be written as ${JSON.stringify(headers.get(other))}${headers.get(other) === header ? '' : ' (headers are compared without case)'}; choose another name`);
    }
    byHeader.set(header.toLowerCase(), name);
  }
  return names.map((name) => ({ name, header: headers.get(name)! }));
}
