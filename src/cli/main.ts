import { Command, CommanderError } from 'commander';
import { CrmError } from '../errors.js';
import { handleSignals } from '../io/interrupt.js';
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

export function buildProgram(): Command {
  const program = new Command('crm')
    .description('Analytical CRM batch engine: RFM segments, customer lifetime value, lifecycle stages and k-means segments on embedded DuckDB')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXAMPLES);
  for (const command of [scoreCommand(), backtestCommand(), runsCommand(), migrationCommand(), exportCommand(), reportCommand()]) {
    program.addCommand(command);
  }
  program.exitOverride();
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** One top-level catch: a user's error is one line and an exit code; a stack only with --debug. */
export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  handleSignals();
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are exits with code 0; anything else commander rejects is a usage error.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof CrmError) {
      process.stderr.write(`crm: ${error.message}\n`);
      if (debug) process.stderr.write(`${error.stack}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    process.stderr.write(`crm: ${message}\n`);
    if (debug) process.stderr.write(`${error instanceof Error ? error.stack : ''}\n`);
    else process.stderr.write('crm: (run with --debug for the stack trace)\n');
    return 1;
  }
}
