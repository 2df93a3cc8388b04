import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CDNOW_CSV, logLines, readJson, ROOT, runCli, tempDir } from '../helpers.js';

/**
 * Runs the real CLI in a pseudo-terminal (util-linux `script`), 300 columns
 * wide so no line wraps, and returns what the terminal received (stdout and
 * stderr both). CRM_PROGRESS_DELAY_MS=0 draws the progress line from the first
 * stage on, instead of after a stage has run for a second.
 */
function runInTerminal(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const command = `stty cols 300 rows 60; exec '${process.execPath}' bin/crm.js ${quoted}`;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
      cwd: ROOT,
      env: { ...process.env, CRM_PROGRESS_DELAY_MS: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/**
 * What a terminal shows after receiving `output`: printable characters
 * overwrite the cell under the cursor; \r, \n, erase line (ESC[2K, ESC[K,
 * ESC[1K), cursor up/down/column (ESC[nA, ESC[nB, ESC[nG) and cursor
 * save/restore (ESC 7, ESC 8) move or clear as a terminal would; colours and
 * modes (ESC[…m, ESC[?25l) change nothing on the screen. No wrapping or
 * scrolling: lines are shorter than the width and fewer than the rows.
 */
export function terminalScreen(output: string): string[] {
  const lines: string[] = [''];
  let row = 0;
  let col = 0;
  let saved = { row: 0, col: 0 };
  const at = (r: number) => (lines[r] ??= '');
  for (let i = 0; i < output.length; ) {
    const csi = /^\x1b\[([?\d;]*)([A-Za-z])/.exec(output.slice(i, i + 16));
    if (csi) {
      const [all, arg, command] = csi as unknown as [string, string, string];
      const n = Number(arg || 1);
      if (command === 'K' && (arg === '' || arg === '0')) lines[row] = at(row).slice(0, col);
      else if (command === 'K' && arg === '1') lines[row] = ' '.repeat(col + 1) + at(row).slice(col + 1);
      else if (command === 'K' && arg === '2') lines[row] = '';
      else if (command === 'A') row = Math.max(0, row - n);
      else if (command === 'B') row += n;
      else if (command === 'G') col = n - 1;
      i += all.length;
      continue;
    }
    const ch = output[i]!;
    if (ch === '\x1b') {
      if (output[i + 1] === '7') saved = { row, col };
      if (output[i + 1] === '8') ({ row, col } = saved);
      i += 2;
      continue;
    }
    if (ch === '\r') col = 0;
    else if (ch === '\n') row++;
    else {
      const line = at(row).padEnd(col, ' ');
      lines[row] = line.slice(0, col) + ch + line.slice(col + 1);
      col++;
    }
    i++;
  }
  for (let r = 0; r <= row; r++) at(r);
  return lines.map((l) => l.trimEnd());
}

const PROGRESS_LINE = /^crm [█░]{20} \d\/8 stages \| \w+ \d+s$/;
const logLine = (level: string, message: string) => new RegExp(`^\\[\\d\\d:\\d\\d:\\d\\d\\] ${level}: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( |$)`);

/** The log lines of `crm score CDNOW --out <out> --no-db` on a terminal, in order. */
const cdnowRunLines = (out: string) => [
  // CDNOW: 6,919 rows by 2,357 customers, the latest on 1998-06-30 (fixtures/cdnow/README.md).
  logLine('INFO', 'crm score started'),
  logLine('INFO', 'loaded transactions files=1 rowsRead=6,919 rowsRejected=0'),
  logLine('INFO', 'computed customer features asOf=1998-06-30 customers=2,357 rowsExcluded=0'),
  logLine('INFO', `scored customers out=${out} customers=2,357 rows={read=6,919 accepted=6,919 rejected=0 excluded=0}`),
  /^\[\d\d:\d\d:\d\d\] INFO: crm score finished outcome=ok exitCode=0 seconds=(\d+ms|\d+\.\ds) timings=\{load=(\d+ms|\d+\.\ds) features=/,
];

describe('crm on a terminal', () => {
  it('keeps every log line whole, with the progress line below them until the run ends', { timeout: 120_000 }, async () => {
    const out = await tempDir();
    const { code, output } = await runInTerminal(['score', CDNOW_CSV, '--out', out, '--no-db']);
    expect(code, output).toBe(0);
    const expected = cdnowRunLines(out);
    const screen = terminalScreen(output).filter(Boolean);
    // Exactly the log lines, in order: no progress text left in them, none overwritten; the progress line is gone at the end.
    expect(screen).toHaveLength(expected.length);
    expected.forEach((pattern, i) => expect(screen[i]).toMatch(pattern));
    // While the run went on, the progress line was at the bottom, under the log line just written.
    const features = output.indexOf('computed customer features');
    const nextProgress = output.indexOf(' stages | ', features);
    const screenThen = terminalScreen(output.slice(0, output.indexOf('\r', nextProgress))).filter(Boolean);
    expect(screenThen.at(-1)).toMatch(PROGRESS_LINE);
    expect(screenThen.at(-2)).toMatch(expected[2]!);
  });

  it("keeps commander's text and the plain crm: line for errors", { timeout: 60_000 }, async () => {
    const usage = await runInTerminal(['score', '--bogus']);
    expect(usage.code).toBe(2);
    expect(terminalScreen(usage.output).filter(Boolean)).toEqual(["error: unknown option '--bogus'"]);
    const dir = await tempDir();
    const missing = path.join(dir, 'missing.csv');
    const failed = await runInTerminal(['score', missing, '--out', path.join(dir, 'out')]);
    expect(failed.code).toBe(1);
    const screen = terminalScreen(failed.output).filter(Boolean);
    expect(screen.at(-2)).toMatch(/^\[\d\d:\d\d:\d\d\] ERROR: crm score failed outcome=failed exitCode=1 /);
    expect(screen.at(-1)).toBe(`crm: ${missing}: cannot read the file (ENOENT)`);
  });
});

/**
 * tmux, a real terminal emulator: what its screen shows is the terminal's
 * reading of crm's output, not terminalScreen's. The run stops itself
 * (SIGSTOP at the point its outputs are staged: the model stages done, the
 * write not begun) so the screen can be read mid-run without a guessed delay,
 * then goes on to the end. crm runs under a shell, not as the pane's own
 * process: tmux sends SIGCONT to a pane process that stops. The pane stays
 * after the run (remain-on-exit) to be read again. A private server (-L), a
 * 300 × 60 window, no status line; the screen is read with its scrollback.
 */
const hasTmux = spawnSync('tmux', ['-V']).status === 0;

function tmuxSession() {
  const socket = `crm-test-${process.pid}`;
  const tmux = (...args: string[]) => {
    const r = spawnSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  return {
    tmux,
    /** The pane's rows and scrollback, trailing blanks trimmed, empty rows and tmux's own "Pane is dead" line dropped. */
    screen: () => tmux('capture-pane', '-p', '-S', '-', '-t', 'crm').split('\n').map((l) => l.trimEnd()).filter((l) => l && !l.startsWith('Pane is dead')),
    close: () => spawnSync('tmux', ['-L', socket, 'kill-server']),
  };
}

/** Waits (polling, no deadline of its own: the test's timeout is the limit) until `ready()` is true. */
async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((r) => setTimeout(r, 50));
}

const processState = (pid: number) => {
  try {
    // /proc/<pid>/stat: "pid (comm) S …"; T = stopped.
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
  } catch {
    return 'gone';
  }
};

describe.skipIf(!hasTmux)('crm in tmux', () => {
  it('shows every log line whole and the progress line at the bottom mid-run, and every line whole at the end', { timeout: 120_000 }, async () => {
    const out = await tempDir();
    const { tmux, screen, close } = tmuxSession();
    const env = ['CRM_PROGRESS_DELAY_MS=0', 'CRM_TEST_KILL_AT=outputs-staging', 'CRM_TEST_SIGNAL=SIGSTOP'];
    const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
    // The shell writes crm's exit status to a file before it ends: tmux's own #{pane_dead_status} is
    // sometimes never set when the terminal closes before tmux reaps the process.
    const statusFile = path.join(await tempDir(), 'exit-status');
    const command = `${['env', ...env, process.execPath, 'bin/crm.js', 'score', CDNOW_CSV, '--out', out, '--no-db'].map(quote).join(' ')}; s=$?; echo $s > ${quote(statusFile)}; exit $s`;
    let pid = 0;
    try {
      tmux('new-session', '-d', '-s', 'crm', '-x', '300', '-y', '60', '-c', ROOT, command);
      tmux('set-option', '-t', 'crm', 'status', 'off');
      tmux('set-option', '-w', '-t', 'crm', 'remain-on-exit', 'on');
      const shell = Number(tmux('display-message', '-p', '-t', 'crm', '#{pane_pid}'));
      await until(() => (pid = Number(readFileSync(`/proc/${shell}/task/${shell}/children`, 'utf8').trim())) > 0);
      await until(() => processState(pid) === 'T' || processState(pid) === 'gone');
      expect(processState(pid)).toBe('T');
      // Stopped after the model stages: the three log lines so far, whole, and the progress line under them.
      // (tmux reads the terminal on its own: wait until the last write has reached its screen.)
      await until(() => PROGRESS_LINE.test(screen().at(-1) ?? ''));
      const expected = cdnowRunLines(out);
      const midRun = screen();
      expect(midRun, midRun.join('\n')).toHaveLength(4);
      expected.slice(0, 3).forEach((pattern, i) => expect(midRun[i]).toMatch(pattern));
      expect(midRun[3]).toMatch(PROGRESS_LINE);
      expect(midRun[3]).toMatch(/^crm █{15}░{5} 6\/8 stages /);

      process.kill(pid, 'SIGCONT');
      await until(() => tmux('display-message', '-p', '-t', 'crm', '#{pane_dead}').trim() === '1');
      expect(readFileSync(statusFile, 'utf8').trim()).toBe('0');
      // At the end: exactly the five log lines, whole and in order; the progress line is gone.
      const atEnd = screen();
      expect(atEnd, atEnd.join('\n')).toHaveLength(expected.length);
      expected.forEach((pattern, i) => expect(atEnd[i]).toMatch(pattern));
    } finally {
      if (pid && processState(pid) === 'T') process.kill(pid, 'SIGCONT');
      close();
    }
  });
});

const RUN_ID = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;

/**
 * Every line crm wrote to stderr, each parsed as JSON: stricter than
 * logLines, which skips empty lines; here an empty line, or a last line cut
 * short without its newline, fails the test as any text that is not JSON does.
 */
function everyLineJson(stderr: string) {
  expect(stderr.endsWith('\n'), stderr).toBe(true);
  return stderr.slice(0, -1).split('\n').map((line) => JSON.parse(line));
}

describe('crm off a terminal (cron)', () => {
  it('logs a usage error as one JSON line with its exit code', async () => {
    const result = await runCli(['score', '--bogus']);
    expect(result.code).toBe(2);
    expect(everyLineJson(result.stderr)).toEqual([
      { level: 50, time: expect.any(String), outcome: 'failed', exitCode: 2, hint: 'run with --help for usage', msg: "unknown option '--bogus'" },
    ]);
    const noCommand = await runCli([]);
    expect(noCommand.code).toBe(2);
    expect(everyLineJson(noCommand.stderr)).toMatchObject([{ level: 50, exitCode: 2, msg: 'a command is needed: score, backtest, runs, migration, export, report' }]);
    const missingArgument = await runCli(['backtest', CDNOW_CSV]);
    expect(missingArgument.code).toBe(2);
    expect(everyLineJson(missingArgument.stderr)).toMatchObject([{ level: 50, exitCode: 2, msg: "required option '--calibration-end <date>' not specified" }]);
  });

  it('logs a run that fails on a missing input as JSON lines under one run id, the last with the exit code', async () => {
    const dir = await tempDir();
    const missing = path.join(dir, 'missing.csv');
    const result = await runCli(['score', missing, '--out', path.join(dir, 'out')]);
    expect(result.code).toBe(1);
    const lines = everyLineJson(result.stderr);
    expect(lines.map((l) => l.msg)).toEqual(['crm score started', `${missing}: cannot read the file (ENOENT)`]);
    expect(lines[0].runId).toMatch(RUN_ID);
    expect(lines[0].options.inputs).toEqual([missing]);
    expect(lines[1]).toMatchObject({ level: 50, runId: lines[0].runId, command: 'score', outcome: 'failed', exitCode: 1, timings: { load: expect.any(Number) } });
  });

  it('logs a successful run as JSON lines under one run id, the last with outcome, exit code and stage times in ms', { timeout: 120_000 }, async () => {
    const out = await tempDir();
    const result = await runCli(['score', CDNOW_CSV, '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    const lines = everyLineJson(result.stderr);
    const runId = lines[0].runId;
    expect(runId).toMatch(RUN_ID);
    for (const line of lines) expect(line).toMatchObject({ level: expect.any(Number), msg: expect.any(String), runId });
    expect(lines[0]).toMatchObject({ msg: 'crm score started', command: 'score', options: { inputs: [CDNOW_CSV], out } });
    const last = lines.at(-1);
    expect(last).toMatchObject({ level: 30, msg: 'crm score finished', outcome: 'ok', exitCode: 0 });
    expect(Object.keys(last.timings)).toEqual(['load', 'features', 'clv', 'rfm', 'lifecycle', 'clusters', 'write', 'history']);
    for (const seconds of [last.seconds, ...Object.values(last.timings)]) expect(Math.round((seconds as number) * 1000)).toBeCloseTo((seconds as number) * 1000, 6);
    expect(lines.find((l) => l.msg === 'scored customers')).toMatchObject({ historyRun: 1, customers: 2357, rows: { read: 6919, accepted: 6919, rejected: 0, excluded: 0 } });
    // The id in the log is in summary.json beside the history's run number.
    const summary = await readJson(path.join(out, 'summary.json'));
    expect(summary.run).toMatchObject({ id: 1, logId: runId });
    for (const seconds of Object.values(summary.timings)) expect(Math.round((seconds as number) * 1000)).toBeCloseTo((seconds as number) * 1000, 6);
    // crm export's counts line too (it was plain text).
    const mailing = path.join(out, 'mailing.csv');
    const exported = await runCli(['export', '--db', path.join(out, 'crm.duckdb'), '--segment', 'Champions', '--out', mailing]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(everyLineJson(exported.stderr)).toMatchObject([{ level: 30, msg: expect.stringMatching(new RegExp(`^crm export: run 1: \\d+ matched, .* written to ${mailing}$`)) }]);
  });

  it('logs each stage at debug with its seconds and the rows and bytes it pulled from the engine', { timeout: 120_000 }, async () => {
    const out = await tempDir();
    const result = await runCli(['score', CDNOW_CSV, '--out', out, '--no-db', '--log-level', 'debug']);
    expect(result.code, result.stderr).toBe(0);
    const steps = logLines(result.stderr).filter((l) => l.msg === 'stage done');
    const summary = await readJson(path.join(out, 'summary.json'));
    // clv is timed in two steps (patterns and fits started, then the fits' results loaded): a line each.
    expect([...new Set(steps.map((s) => s.stage))].sort()).toEqual(Object.keys(summary.timings).sort());
    for (const step of steps) {
      expect(step).toMatchObject({ level: 20, seconds: expect.any(Number), rowsPulled: expect.any(Number), bytesPulled: 0 });
      expect(Number.isInteger(step.rowsPulled) && step.rowsPulled >= 0).toBe(true);
    }
    // The CLV fits read patterns (DuckDB counts rows, and no bytes: nothing crosses a wire): fewer rows than customers.
    const clvRows = steps.filter((s) => s.stage === 'clv').reduce((total, s) => total + s.rowsPulled, 0);
    expect(clvRows).toBeGreaterThan(0);
    expect(clvRows).toBeLessThan(summary.customers);
  });

  it('logs an internal error with the --debug hint, or with --debug its stack, in the last JSON line', async () => {
    const dir = await tempDir();
    // The test hook throws a plain Error where the outputs are staged: an error crm has no words of its own for.
    const args = ['score', CDNOW_CSV, '--out', path.join(dir, 'out'), '--no-db'];
    const env = { CRM_TEST_FAIL_AT: 'outputs-staging' };
    const [plain, debug] = await Promise.all([runCli(args, { env }), runCli([...args, '--debug'], { env })]);
    for (const result of [plain, debug]) {
      expect(result.code).toBe(1);
      expect(logLines(result.stderr).at(-1)).toMatchObject({ level: 50, msg: 'test failure at outputs-staging', outcome: 'failed', exitCode: 1, runId: expect.stringMatching(RUN_ID) });
    }
    expect(logLines(plain.stderr).at(-1)).toMatchObject({ hint: 'run with --debug for the stack trace' });
    expect(logLines(plain.stderr).at(-1).stack).toBeUndefined();
    expect(logLines(debug.stderr).at(-1)).toMatchObject({ stack: expect.stringMatching(/\n +at /) });
  });
});

describe('a reader that closes the pipe early (crm … | head)', () => {
  it('stops crm with 141 (128 + SIGPIPE), as any Unix tool, and no stack trace', { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'crm.js'), 'score', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Closed before crm writes anything: its first write fails with EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(141);
    expect(stderr).not.toMatch(/EPIPE|at .*\.js:\d+/);
  });
});
