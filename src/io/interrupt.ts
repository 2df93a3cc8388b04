import { rmSync } from 'node:fs';

/**
 * SIGTERM, SIGINT and SIGHUP (a scheduler's stop, Ctrl-C, a closed terminal)
 * end a command cleanly: what it registered (a run's staging folder, DuckDB's
 * spill folder, an export's temp file) is removed, one line is logged, and the process exits with
 * 128 + the signal's number, as a shell reports it. Once a run starts to
 * record itself and publish, a signal waits for that to finish (seconds):
 * stopped half way, the publish would be left for the next command.
 */
const EXIT_CODES = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
type Signal = keyof typeof EXIT_CODES;

const leftovers = new Set<string>();
type Report = (signal: Signal, exitCode: number, message: string) => void;
let report: Report | null = null;
let handling = false;
let holding = 0;
let caught: Signal | null = null;

/** Removes `remove` (a folder or a file) if a signal stops the command; the returned function forgets it. */
export function onInterrupt({ remove }: { remove: string }): () => void {
  leftovers.add(remove);
  return () => leftovers.delete(remove);
}

/** How the CLI writes the one line a signal ends with (its last log line, with the exit code). */
export function reportInterruptsWith(write: Report): void {
  report = write;
}

export function handleSignals(): void {
  if (handling) return;
  handling = true;
  for (const signal of Object.keys(EXIT_CODES) as Signal[]) {
    process.on(signal, () => {
      if (holding > 0) caught ??= signal;
      else stop(signal, false);
    });
  }
}

/** Runs `work` (recording and publishing a run) to its end before a signal stops the process. */
export async function beforeAnySignal<T>(work: () => Promise<T>): Promise<T> {
  holding++;
  try {
    return await work();
  } finally {
    holding--;
    if (holding === 0 && caught) stop(caught, true);
  }
}

function stop(signal: Signal, afterPublish: boolean): never {
  // Synchronous: the run's work goes on between awaits, and must not publish after this.
  for (const leftover of leftovers) rmSync(leftover, { recursive: true, force: true, maxRetries: 3 });
  const message = afterPublish ? `stopped by ${signal} once the publish in progress had ended` : `stopped by ${signal}; its temporary files were removed`;
  if (report) report(signal, EXIT_CODES[signal], message);
  else process.stderr.write(`crm: ${message}\n`);
  process.exit(EXIT_CODES[signal]);
}
