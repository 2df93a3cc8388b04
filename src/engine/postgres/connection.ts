import { UsageError } from '../../errors.js';

/**
 * Where the PostgreSQL engine connects: a `postgres://` / `postgresql://` URL
 * (its parameters, `sslmode` and the rest, passed to the driver as they are),
 * or `postgres` alone for the standard PG* environment variables (PGHOST,
 * PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE), as psql reads them.
 */
export type PostgresTarget =
  | { kind: 'url'; connectionString: string; password: string | undefined }
  | { kind: 'environment'; password: string | undefined };

export const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/** The password of anything URL-shaped (`scheme://user:password@host`) masked, for messages about a spec that may not even parse. */
export const maskUrlPassword = (text: string): string => text.replace(/(\/\/[^/@:\s]*:)[^@\s]*@/g, '$1***@');

/** Query parameters that carry a secret; masked like the password. */
const SECRET_PARAMETERS = ['password', 'sslpassword', 'sslkey'];

/**
 * The URL as it may be shown in logs, errors and summaries: the password (in
 * the user part or a `password=` parameter) replaced by `***`.
 */
export function redactedUrl(connectionString: string): string {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return maskUrlPassword(connectionString).replace(new RegExp(`([?&](?:${SECRET_PARAMETERS.join('|')})=)[^&]*`, 'gi'), '$1***');
  }
  if (url.password) url.password = '***';
  for (const name of SECRET_PARAMETERS) if (url.searchParams.has(name)) url.searchParams.set(name, '***');
  // URLSearchParams re-encodes '*': keep the mask readable.
  return url.toString().replaceAll('%2A%2A%2A', '***');
}

/** How an environment-variable target is shown: where it goes, never PGPASSWORD. */
export function describeEnvironment(env: NodeJS.ProcessEnv = process.env): string {
  const shown = ['PGHOST', 'PGPORT', 'PGUSER', 'PGDATABASE', 'PGSSLMODE'].filter((name) => env[name]).map((name) => `${name}=${env[name]}`);
  return `postgres (${shown.length ? shown.join(' ') : 'PG* variables unset: localhost:5432'})`;
}

/** A target as it may be shown anywhere. */
export const describeTarget = (target: PostgresTarget): string =>
  target.kind === 'url' ? redactedUrl(target.connectionString) : describeEnvironment();

/**
 * `--engine postgres://…` / `postgres` as a target. A URL that does not parse,
 * or names no host, is a usage error naming the flag, its password masked.
 */
export function parsePostgresTarget(spec: string, flag = '--engine', env: NodeJS.ProcessEnv = process.env): PostgresTarget {
  if (spec === 'postgres' || spec === 'postgresql') return { kind: 'environment', password: env.PGPASSWORD || undefined };
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw new UsageError(`${flag} ${maskUrlPassword(spec)}: not a valid PostgreSQL URL; expected postgres://user@host:port/database`);
  }
  if (!POSTGRES_URL.test(spec) || !url.hostname) {
    throw new UsageError(`${flag} ${redactedUrl(spec)}: not a valid PostgreSQL URL; expected postgres://user@host:port/database`);
  }
  const fromQuery = url.searchParams.get('password') ?? undefined;
  const password = url.password ? decodeURIComponent(url.password) : fromQuery;
  return { kind: 'url', connectionString: spec, password };
}

/** `--schema`: any name (it is always quoted), but not an empty one. */
export function checkSchemaName(schema: string, flag = '--schema'): string {
  if (!schema.trim()) throw new UsageError(`${flag}: give the name of the schema that holds crm's tables (default crm)`);
  if (Buffer.byteLength(schema) > 63) throw new UsageError(`${flag} ${schema}: PostgreSQL names are at most 63 bytes long`);
  return schema;
}

/** Seconds to wait for a connection unless the URL (`connect_timeout`) or PGCONNECT_TIMEOUT says otherwise: a host that drops packets fails in that time, not the system's minutes. */
export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 30;

/** The connect timeout in milliseconds: the URL's `connect_timeout`, else PGCONNECT_TIMEOUT, else the default; 0 waits for ever (libpq's meaning). */
export function connectTimeoutMillis(target: PostgresTarget, env: NodeJS.ProcessEnv = process.env): number {
  const fromUrl = target.kind === 'url' ? new URL(target.connectionString).searchParams.get('connect_timeout') : null;
  const seconds = Number(fromUrl ?? env.PGCONNECT_TIMEOUT ?? DEFAULT_CONNECT_TIMEOUT_SECONDS);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : DEFAULT_CONNECT_TIMEOUT_SECONDS * 1000;
}
