import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, logLines, parseCsv, readJson, runCli, tempDir } from '../helpers.js';

/**
 * fixtures/bad (see its README.md), each file through the real CLI: the exit
 * code and message, and for a run that succeeds the counts (read = accepted +
 * rejected) and every reject with its line and reason. Expected values are
 * from reading each file by hand.
 */
type Case = {
  file: string;
  flags?: string[];
} & ({ error: RegExp; code?: 2 } | { read: number; rejects: [line: number, reason: RegExp][] });

const CASES: Case[] = [
  // The files before issue 13.
  { file: 'bad_dates.csv', read: 6, rejects: [[3, /^unparseable date$/], [4, /^unparseable date$/], [5, /^missing date$/], [6, /^unparseable date$/]] },
  { file: 'blank_lines.csv', read: 6, rejects: [[6, /^unparseable date$/], [7, /^too many columns/], [9, /^non-numeric amount$/], [10, /^missing customer id$/]] },
  { file: 'blank_lines_crlf.csv', read: 6, rejects: [[6, /^unparseable date$/], [7, /^too many columns/], [9, /^non-numeric amount$/], [10, /^missing customer id$/]] },
  { file: 'crlf.csv', read: 3, rejects: [] },
  { file: 'empty.csv', error: /empty\.csv: the file is empty$/ },
  { file: 'header_only.csv', error: /header_only\.csv: no transaction rows/ },
  { file: 'long_ids.csv', read: 3, rejects: [] },
  { file: 'missing_column.csv', error: /missing_column\.csv: missing amount column/ },
  { file: 'missing_ids_and_fields.csv', read: 6, rejects: [[3, /^missing customer id$/], [4, /^too many columns/], [5, /^missing customer id$/], [6, /^missing columns/]] },
  { file: 'mixed_date_formats.csv', read: 6, rejects: [[6, /^unparseable date$/], [7, /^unparseable date$/]] },
  { file: 'multiline_quoted.csv', read: 7, rejects: [[5, /^unparseable date$/], [9, /^non-numeric amount$/], [10, /^missing date$/], [12, /^too many columns/]] },
  { file: 'non_numeric_amounts.csv', read: 6, rejects: [[3, /^non-numeric amount$/], [4, /^missing amount$/], [5, /^non-numeric amount$/], [6, /^non-numeric amount$/]] },
  { file: 'quoted_delimiters.csv', read: 3, rejects: [[3, /^non-numeric amount$/]] },
  { file: 'stray_quote.csv', read: 5, rejects: [[5, /^unparseable date$/], [6, /^non-numeric amount$/], [7, /^missing date$/]] },
  { file: 'utf8_bom.csv', read: 2, rejects: [] },
  { file: 'wrong_delimiter.csv', read: 3, rejects: [] },
  { file: 'wrong_delimiter.csv', flags: ['--delimiter', ','], error: /missing customer column .*columns: customer_id;order_date;amount/ },

  // Encodings and bytes.
  { file: 'utf16le_bom.csv', error: /utf16le_bom\.csv: the text is UTF-16 \(little-endian, with a byte-order mark\); .*iconv -f UTF-16 -t UTF-8 \S*\/fixtures\/bad\/utf16le_bom\.csv > \S*\/fixtures\/bad\/utf16le_bom\.utf8\.csv$/ },
  { file: 'utf16be_bom.csv', error: /utf16be_bom\.csv: the text is UTF-16 \(big-endian, with a byte-order mark\); .*iconv -f UTF-16 -t UTF-8 \S*\/fixtures\/bad\/utf16be_bom\.csv > \S*\/fixtures\/bad\/utf16be_bom\.utf8\.csv$/ },
  { file: 'utf16le_no_bom.csv', error: /utf16le_no_bom\.csv: the text is UTF-16 \(little-endian\); .*iconv -f UTF-16LE -t UTF-8 \S*\/fixtures\/bad\/utf16le_no_bom\.csv > \S*\/fixtures\/bad\/utf16le_no_bom\.utf8\.csv$/ },
  { file: 'utf32le_bom.csv', error: /utf32le_bom\.csv: the text is UTF-32 \(little-endian, with a byte-order mark\); .*iconv -f UTF-32 -t UTF-8 \S*\/fixtures\/bad\/utf32le_bom\.csv > \S*\/fixtures\/bad\/utf32le_bom\.utf8\.csv$/ },
  { file: 'latin1.csv', read: 3, rejects: [[2, /^invalid encoding/]] },
  { file: 'nul_bytes.csv', read: 4, rejects: [[3, /^non-numeric amount$/], [4, /^missing columns/]] },
  { file: 'mixed_line_endings.csv', error: /mixed_line_endings\.csv: mixes Windows \(CRLF, 2 lines\) and Unix \(LF, 2 lines\) line endings/ },

  // gzip.
  { file: 'gzip_ok.csv.gz', read: 3, rejects: [] },
  { file: 'truncated.csv.gz', error: /truncated\.csv\.gz: the compressed file ends early, it is truncated/ },
  { file: 'gzip_named_csv.csv', error: /gzip_named_csv\.csv: the file is gzip-compressed, but its name does not end in \.gz; rename it so it is read decompressed, e\.g\. mv \S*\/fixtures\/bad\/gzip_named_csv\.csv \S*\/fixtures\/bad\/gzip_named_csv\.csv\.gz$/ },

  // NDJSON and Parquet.
  {
    file: 'nested_ids.ndjson',
    read: 8,
    rejects: [
      [2, /^customer id is not a text or number value$/],
      [3, /^customer id is not a text or number value$/],
      [5, /^date is not a text or number value$/],
      [6, /^amount is not a text or number value$/],
      [7, /^amount is not a text or number value$/],
    ],
  },
  { file: 'json_array.ndjson', error: /json_array\.ndjson: the file is a JSON array, not newline-delimited JSON .*jq -c '\.\[\]' \S*\/fixtures\/bad\/json_array\.ndjson > \S*\/fixtures\/bad\/json_array\.lines\.ndjson$/ },
  { file: 'json_array_pretty.json', error: /json_array_pretty\.json: the file is a JSON array, not newline-delimited JSON/ },
  { file: 'ndjson_malformed.ndjson', read: 5, rejects: [[2, /^malformed JSON$/], [3, /^malformed JSON: not an object$/], [5, /^missing customer id$/]] },
  { file: 'struct_ids.parquet', error: /all 3 rows were rejected: 3 customer id is not a text or number value$/ },
  { file: 'list_ids.parquet', error: /all 3 rows were rejected: 3 customer id is not a text or number value$/ },

  // Names, sizes, delimiters.
  { file: 'tx[1].csv', read: 1, rejects: [] },
  { file: 'tx1.csv', read: 2, rejects: [] },
  { file: 'long_field.csv', read: 3, rejects: [] },
  { file: 'multichar_delimiter.csv', flags: ['--delimiter', '||'], read: 3, rejects: [[4, /^unparseable date$/]] },
  { file: 'multichar_delimiter.csv', flags: ['--delimiter', '|||||'], code: 2, error: /delimiter: expected 'tab', 'whitespace' or 1 to 4 bytes/ },
  { file: 'tab_separated.tsv', read: 2, rejects: [] },
  { file: 'ragged_rows.csv', read: 3, rejects: [[3, /^missing columns/], [4, /^too many columns/]] },

  // Values.
  { file: 'amount_out_of_range.csv', read: 5, rejects: [[3, /^amount out of range$/], [4, /^amount out of range$/], [5, /^non-numeric amount$/]] },
  { file: 'nan_infinity_amounts.csv', read: 4, rejects: [[3, /^non-numeric amount$/], [4, /^non-numeric amount$/], [5, /^non-numeric amount$/]] },
  { file: 'whitespace_fields.csv', read: 5, rejects: [[3, /^missing customer id$/], [4, /^missing date$/], [5, /^missing amount$/]] },
  { file: 'leading_zero_ids.csv', read: 4, rejects: [] },
  { file: 'timestamps.csv', read: 3, rejects: [] },
  { file: 'yyyymmdd_dates.csv', read: 3, rejects: [[3, /^unparseable date$/]] },
  { file: 'decimal_comma.csv', flags: ['--decimal-separator', ','], read: 3, rejects: [[4, /^non-numeric amount$/]] },
  { file: 'decimal_comma_without_flag.csv', error: /all 2 rows were rejected: 2 non-numeric amount \(amounts such as "12,50" have a decimal comma: run with --decimal-separator ,\)$/ },
  { file: 'day_month_ambiguous.csv', error: /day_month_ambiguous\.csv: dates in order_date such as "01\/02\/2024" read as day-first or month-first alike/ },
  { file: 'all_rows_bad.csv', error: /all 3 rows were rejected: 2 unparseable date, 1 non-numeric amount$/ },

  { file: 'future_dates.csv', read: 5, rejects: [[5, /^date in the future$/]] },
];

/** Files in fixtures/bad that are not inputs. */
const NOT_INPUTS = new Set(['README.md', 'make.mjs']);

describe.concurrent('the bad-input corpus (fixtures/bad), through the CLI', () => {
  it('has at least 40 files, each of them in the table', async () => {
    const files = (await readdir(fixture('bad'))).filter((f) => !NOT_INPUTS.has(f));
    expect(files.length).toBeGreaterThanOrEqual(40);
    expect(files.filter((f) => !CASES.some((c) => c.file === f))).toEqual([]);
  });

  for (const c of CASES) {
    it(`${c.file}${c.flags ? ` ${c.flags.join(' ')}` : ''}`, async () => {
      const out = path.join(await tempDir(), 'out');
      const run = await runCli(['score', fixture('bad', c.file), '--out', out, '--no-db', '-f', 'csv', '--no-clv', '--no-kmeans', '--no-lifecycle', '-q', ...(c.flags ?? [])]);
      if ('error' in c) {
        expect(run.code, run.stderr).toBe(c.code ?? 1);
        // -q: the failure is the only line, one JSON object with the exit code.
        const lines = logLines(run.stderr);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatchObject({ exitCode: c.code ?? 1, outcome: 'failed' });
        expect(lines[0].msg).toMatch(c.error);
        return;
      }
      expect(run.code, run.stderr).toBe(0);
      const { rows } = await readJson(path.join(out, 'summary.json'));
      const rejects = parseCsv(await readFile(path.join(out, 'rejects.csv'), 'utf8'));
      expect(rows.read).toBe(c.read);
      expect(rows.read).toBe(rows.accepted + rows.rejected);
      expect(rejects).toHaveLength(rows.rejected);
      expect(rejects.map((r) => Number(r.line))).toEqual(c.rejects.map(([line]) => line));
      rejects.forEach((r, i) => expect(r.reason).toMatch(c.rejects[i]![1]));
    });
  }

  it('a conversion hint names the file as it was given, relative to where crm runs (before: only its basename)', async () => {
    const out = path.join(await tempDir(), 'out');
    const run = await runCli(['score', 'fixtures/bad/utf16le_bom.csv', '--out', out, '--no-db', '-q']);
    expect(run.code).toBe(1);
    expect(logLines(run.stderr).at(-1).msg).toBe(
      'fixtures/bad/utf16le_bom.csv: the text is UTF-16 (little-endian, with a byte-order mark); crm reads UTF-8: convert it first, e.g. iconv -f UTF-16 -t UTF-8 fixtures/bad/utf16le_bom.csv > fixtures/bad/utf16le_bom.utf8.csv',
    );
  });
});
