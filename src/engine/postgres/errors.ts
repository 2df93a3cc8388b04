import { EngineError, type EngineProblem } from '../../errors.js';

/*
 * PostgreSQL's errors, in a user's words. The driver's own text is kept after
 * the explanation (it names the table or the lock), with the password, if it
 * appears anywhere, masked: a message may end up in a log, a summary or a ticket.
 */

/** SQLSTATE classes and codes (PostgreSQL's errcodes) → what went wrong and what to do. */
const BY_SQLSTATE: Record<string, { problem: EngineProblem; exitCode: 1 | 2; says: string }> = {
  '28P01': { problem: 'credentials', exitCode: 2, says: 'the server refused the user name or password; check the user and password in --engine (or PGUSER/PGPASSWORD)' },
  '28000': { problem: 'credentials', exitCode: 2, says: 'the server refused this user; check the user in --engine (or PGUSER) and the server\'s pg_hba.conf' },
  '42501': { problem: 'permission', exitCode: 2, says: "the user lacks a privilege crm needs; have it granted, or give --schema a schema the user may create tables in" },
  '3D000': { problem: 'no-database', exitCode: 2, says: 'the database does not exist; name an existing database in --engine (or PGDATABASE)' },
  '53200': { problem: 'out-of-memory', exitCode: 1, says: 'the PostgreSQL server ran out of memory; give the server more memory or lower its work_mem, or run on fewer customers at a time' },
  '53100': { problem: 'disk-full', exitCode: 1, says: "the PostgreSQL server's disk is full; free space on the server (its data and temporary tablespaces) and run again" },
  '53300': { problem: 'too-many-connections', exitCode: 1, says: 'the server has no free connection slots; wait for other sessions to end or raise max_connections' },
  '55P03': { problem: 'lock-timeout', exitCode: 1, says: "another session holds a lock on crm's tables (lock_timeout ran out); wait for it to finish and run again" },
  '40P01': { problem: 'lock-timeout', exitCode: 1, says: 'the server ended a deadlock with another session by stopping this one; run again' },
  '57P01': { problem: 'unreachable', exitCode: 1, says: 'the server ended the connection (an administrator or a restart); run again when it is back' },
  '57P02': { problem: 'unreachable', exitCode: 1, says: 'the server ended the connection (crash recovery); run again when it is back' },
  '57P03': { problem: 'unreachable', exitCode: 1, says: 'the server is starting up or shutting down; run again when it is up' },
  '57014': { problem: 'lock-timeout', exitCode: 1, says: 'the server cancelled the statement (statement_timeout or a cancel request); raise the timeout or run again' },
};

/** Network errors of the socket (Node's codes) → the server could not be reached. */
const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused: is the server running and listening on that host and port?',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve (DNS lookup failed)',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'the host is unreachable',
  ECONNRESET: 'the server closed the connection',
};

/** Node's TLS failures (certificate checks) and the server's refusal of TLS: the URL's sslmode/sslrootcert need changing. */
const TLS = /^(CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(VERIFY|GET)_|ERR_TLS_|ERR_SSL_)/;
const NO_TLS = /The server does not support SSL connections/i;

/** `text` with every form of `secret` (as typed, URL-encoded) replaced by `***`. */
export function withoutSecret(text: string, secret: string | undefined): string {
  if (!secret) return text;
  let out = text;
  for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join('***');
  return out;
}

interface DriverError {
  code?: string;
  message?: string;
  errors?: DriverError[];
}

/** The socket error code of a failed connect (Node reports both addresses of `localhost` as an AggregateError). */
const networkCode = (error: DriverError): string | undefined =>
  error.code && error.code in UNREACHABLE ? error.code : error.errors?.map(networkCode).find((code) => code !== undefined);

/**
 * A driver error as crm's error (src/errors.ts) where the user can act on it;
 * any other error (a bug in crm's SQL) as it is, its message scrubbed of the password.
 */
export function translatePostgresError(error: unknown, where: string, password: string | undefined): unknown {
  if (!(error instanceof Error)) return error;
  const driver = error as DriverError;
  const detail = withoutSecret(driver.message || driver.errors?.map((e) => e.message).join('; ') || '', password);
  const network = networkCode(driver);
  if (network) {
    return new EngineError(`cannot connect to PostgreSQL at ${where}: ${UNREACHABLE[network]} (${detail || network})`, 'unreachable');
  }
  if ((driver.code && TLS.test(driver.code)) || NO_TLS.test(detail)) {
    return new EngineError(
      `cannot connect to PostgreSQL at ${where}: the TLS connection failed (${detail}); check sslmode and sslrootcert in --engine (or PGSSLMODE)`,
      'tls',
      2,
    );
  }
  if (/timeout expired|Connection terminated due to connection timeout/i.test(detail)) {
    return new EngineError(`cannot connect to PostgreSQL at ${where}: the connection timed out (${detail})`, 'unreachable');
  }
  if (/^Connection terminated|^Client has encountered a connection error/i.test(detail)) {
    return new EngineError(`PostgreSQL at ${where}: the connection was lost; run again when the server is back (${detail})`, 'unreachable');
  }
  const known = driver.code ? BY_SQLSTATE[driver.code] : undefined;
  if (known) return new EngineError(`PostgreSQL at ${where}: ${known.says} (${detail})`, known.problem, known.exitCode);
  if (password) {
    error.message = withoutSecret(error.message, password);
    if (error.stack) error.stack = withoutSecret(error.stack, password);
  }
  return error;
}
