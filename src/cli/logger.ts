import pino from 'pino';
import pretty from 'pino-pretty';
import type { Logger } from '../pipeline/effects.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';

/**
 * Logs go to stderr, so stdout stays for results: human-readable on a
 * terminal, JSON lines otherwise (cron, CI, log shippers). Synchronous, so
 * nothing is lost when the process exits with an error.
 */
export function createLogger(level: LogLevel, stream: NodeJS.WriteStream = process.stderr): Logger {
  const destination = stream.isTTY
    ? pretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss' })
    : pino.destination({ dest: 2, sync: true });
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}
