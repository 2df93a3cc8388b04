import { Command, CommanderError } from 'commander';
import { CrmError } from '../errors.js';
import { handleSignals, reportInterruptsWith } from '../io/interrupt.js';
import { logFailure, logRunFinished } from './logger.js';
import { backtestCommand } from './backtest.js';
import { exportCommand } from './export.js';
import { migrationCommand } from './migration.js';
import { reportCommand } from './report.js';
import { runsCommand } from './runs.js';
import { scoreCommand } from './score.js';

const EXAMPLES = `
Examples:
  $ crm score exports/*.csv --as-of 2025-06-30 --out out/          # the nightly scoring job
  $ crm runs --db out/crm.duckdb                                     # run history
  $ crm migration --db out/crm.duckdb                                # who moved between segments since the last run
  $ crm export --db out/crm.duckdb --segment Champions --contacts contacts.csv --suppress unsubscribed.csv --limit 5000 --order-by clv --out mailing.csv
  $ crm report --db out/crm.duckdb --out report.html
  $ crm backtest tx.csv --calibration-end 1997-09-30 --holdout-end 1998-06-30

Run 'crm <command> --help' for the options and examples of each command.`;

export function buildProgram(tty = Boolean(process.stderr.isTTY)): Command {
  const program = new Command('crm')
    .description('Analytical CRM batch engine: RFM segments, customer lifetime value, lifecycle stages and k-means clusters on embedded DuckDB')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXAMPLES);
  for (const command of [scoreCommand(), backtestCommand(), runsCommand(), migrationCommand(), exportCommand(), reportCommand()]) {
    program.addCommand(command);
  }
  // Off a terminal, commander's own error text would be plain lines in a JSON log: main logs its message instead.
  const output = tty ? {} : { writeErr: () => {}, outputError: () => {} };
  for (const command of [program, ...program.commands]) command.exitOverride().configureOutput(output);
  return program;
}

/** One top-level catch: a user's error is one line and an exit code; a stack only with --debug. */
export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  handleSignals();
  stopQuietlyWhenReaderLeaves();
  reportInterruptsWith((signal, exitCode, message) => logFailure({ exitCode, message, signal }));
  const tty = Boolean(process.stderr.isTTY);
  try {
    await buildProgram(tty).parseAsync(argv, { from: 'user' });
    logRunFinished();
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are exits with code 0; anything else commander rejects is a usage error (its text already on a terminal).
      if (error.exitCode === 0) return 0;
      if (!tty) logFailure({ exitCode: 2, message: commanderMessage(error), hint: 'run with --help for usage' });
      return 2;
    }
    if (error instanceof CrmError) {
      logFailure({ exitCode: error.exitCode, message: error.message, stack: debug ? error.stack : undefined });
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    const stack = error instanceof Error ? error.stack : undefined;
    logFailure(debug ? { exitCode: 1, message, stack } : { exitCode: 1, message, hint: 'run with --debug for the stack trace' });
    return 1;
  }
}

/** Commander's message without its `error: ` prefix; `crm` alone shows the help, which off a terminal is one line naming the commands. */
function commanderMessage(error: CommanderError): string {
  if (error.code === 'commander.help') return `a command is needed: ${buildProgram().commands.map((c) => c.name()).join(', ')}`;
  return error.message.replace(/^error: /, '');
}

/** Exit status of a process a closed pipe stopped (128 + SIGPIPE), as for any Unix tool in `… | head`. */
export const CLOSED_PIPE_EXIT = 141;

/**
 * A reader that stops early (`crm score --help | head`, `crm runs | less`
 * quit early) closes the pipe: crm stops as a Unix tool does there, with
 * 128 + SIGPIPE and no stack trace (Node ignores SIGPIPE and throws EPIPE at
 * the next write). Nothing is lost: stdout carries only results the reader
 * no longer wants, and scratch files of a stopped run go with the next one.
 */
function stopQuietlyWhenReaderLeaves(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(CLOSED_PIPE_EXIT);
    throw error;
  });
}
