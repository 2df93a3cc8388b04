import { createRequire } from 'node:module';
import pino from 'pino';
import type { Logger } from '../pipeline/effects.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';

/**
 * Logs go to stderr, so stdout stays for results: human-readable on a
 * terminal, JSON lines otherwise (cron, CI, log shippers). Synchronous, so
 * nothing is lost when the process exits with an error.
 */
export function createLogger(level: LogLevel, stream: NodeJS.WriteStream = process.stderr): Logger {
  // pino-pretty is loaded only for a terminal: cron and CI runs do not pay for it.
  const destination = stream.isTTY
    ? (createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty'))({
        destination: 2,
        sync: true,
        colorize: true,
        ignore: 'pid,hostname',
        translateTime: 'HH:MM:ss',
      })
    : pino.destination({ dest: 2, sync: true });
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}
