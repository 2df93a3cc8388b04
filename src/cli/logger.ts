import { createRequire } from 'node:module';
import pino from 'pino';
import { newRunId, type Logger } from '../effects.js';
import { writeAbove } from './progress.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';

/**
 * Logs go to stderr, so stdout stays for results: human-readable on a
 * terminal (below which the progress line stays), JSON lines otherwise (cron,
 * CI, log shippers). Synchronous, so nothing is lost when the process exits
 * with an error. `runId` goes on every line of a run.
 */
export function createLogger(level: LogLevel, runId?: string): pino.Logger {
  const destination = process.stderr.isTTY ? prettyDestination() : pino.destination({ dest: 2, sync: true });
  return pino({ level, base: runId ? { runId } : undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}

// pino-pretty is loaded only for a terminal: cron and CI runs do not pay for it.
function prettyDestination(): { write(line: string): void } {
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  const pretty = prettyFactory({ colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname', hideObject: true, messageFormat: (log) => humanLine(log) });
  return { write: (line) => writeAbove(pretty(line)) };
}

// Not for people at a terminal (the command is in the message; the run id and options are for whoever reads the JSON log later).
const NOT_SHOWN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'runId', 'options', 'command']);
const DURATIONS = new Set(['seconds', 'timings']);

/** A log line for people: the message, then key=value with durations in s or ms and counts with thousands separators. */
export function humanLine(log: Record<string, unknown>): string {
  const fields = Object.entries(log)
    .filter(([key, value]) => !NOT_SHOWN.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${humanValue(value, DURATIONS.has(key))}`);
  return [String(log.msg ?? ''), ...fields].join(' ');
}

function humanValue(value: unknown, duration: boolean): string {
  if (typeof value === 'number') return duration ? humanSeconds(value) : humanNumber(value);
  if (Array.isArray(value)) return value.map((v) => humanValue(v, duration)).join(',');
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([key, v]) => `${key}=${humanValue(v, duration || DURATIONS.has(key))}`)
      .join(' ')}}`;
  }
  return String(value);
}

export const humanSeconds = (seconds: number): string => (seconds < 0.1 ? `${Math.round(seconds * 1000)}ms` : `${seconds.toFixed(1)}s`);
const humanNumber = (n: number): string => (Number.isInteger(n) ? n.toLocaleString('en-US') : String(Number(n.toPrecision(4))));

/** Seconds to the millisecond, for the JSON log: finer is timer noise. */
const toMs = (seconds: number) => Math.round(seconds * 1000) / 1000;

/**
 * The run this process is doing (score, backtest): its id, the logger that
 * puts the id on every line, and the stage times so far, so that the final
 * line (ok or failed, written by main) can say how long each stage took.
 */
interface Run {
  command: string;
  runId: string;
  log: pino.Logger;
  started: number;
  timings: Record<string, number>;
}
let current: Run | undefined;

/** Starts a run: a start line with its id and options (flags and paths, never data), before any data is read. */
export function startRun(command: string, level: LogLevel, options: object): { runId: string; log: Logger; stage(name: string, progress?: (name: string) => () => void): () => void } {
  const runId = newRunId(new Date());
  const log = createLogger(level, runId);
  const run: Run = { command, runId, log, started: performance.now(), timings: {} };
  current = run;
  log.info({ command, pid: process.pid, options }, `crm ${command} started`);
  return {
    runId,
    log,
    stage(name, progress) {
      const end = progress?.(name);
      const begin = performance.now();
      return () => {
        end?.();
        // A stage timed in two steps (clv) adds them up.
        run.timings[name] = (run.timings[name] ?? 0) + (performance.now() - begin) / 1000;
      };
    },
  };
}

function outcome(run: Run, exitCode: number): object {
  const timings = Object.fromEntries(Object.entries(run.timings).map(([stage, seconds]) => [stage, toMs(seconds)]));
  return { command: run.command, outcome: exitCode === 0 ? 'ok' : 'failed', exitCode, seconds: toMs((performance.now() - run.started) / 1000), timings };
}

/** The final line of a run that succeeded (nothing when no run started: help, version, runs, …). */
export function logRunFinished(): void {
  if (current) current.log.info(outcome(current, 0), `crm ${current.command} finished`);
}

export interface Failure {
  exitCode: number;
  message: string;
  /** What to do next, e.g. run with --debug for the stack trace. */
  hint?: string;
  stack?: string;
  /** The signal that stopped the command, if one did. */
  signal?: string;
}

/**
 * The final line of a failed command. On a terminal, today's plain `crm: …`
 * (after a log line with the run's outcome, when a run started); otherwise
 * one JSON line with the message, the run id and the exit code, written
 * whatever the log level, as cron needs to know why.
 */
export function logFailure(failure: Failure): void {
  const run = current;
  if (process.stderr.isTTY) {
    if (run) run.log.error(outcome(run, failure.exitCode), `crm ${run.command} failed`);
    writeAbove([`crm: ${failure.message}`, ...(failure.stack ? [failure.stack] : []), ...(failure.hint ? [`crm: (${failure.hint})`] : [])].join('\n') + '\n');
    return;
  }
  const fields = { ...(run ? outcome(run, failure.exitCode) : { outcome: 'failed', exitCode: failure.exitCode }), hint: failure.hint, stack: failure.stack, signal: failure.signal };
  createLogger('info', run?.runId).error(fields, failure.message);
}
