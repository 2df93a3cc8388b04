import { readFile } from 'node:fs/promises';
import type { ZodError } from 'zod';
import { UsageError } from '../errors.js';
import { scoreConfigSchema, type ScoreConfig } from './schema.js';

/** An unreadable or invalid config file or option set: a usage error (exit 2). */
export class ConfigError extends UsageError {}

/** Reads a JSON or YAML file (by extension; YAML is a superset of JSON anyway). */
export async function readConfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    // yaml is loaded only for YAML files: it is a noticeable part of start-up.
    return /\.json$/i.test(path) ? JSON.parse(text) : (await import('./yaml.js')).parseYaml(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${(error as Error).message}`);
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Flags override the file, nested objects merged key by key. */
export function mergeOptions(base: unknown, override: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = isPlainObject(base) ? { ...base } : {};
  for (const [key, value] of Object.entries(override)) {
    if (value === undefined) continue;
    out[key] = isPlainObject(value) ? mergeOptions(out[key], value) : value;
  }
  return out;
}

/** One readable line per problem, naming the field: `clv.horizonMonths: expected a number`. */
export function describeZodError(error: ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(config)'}: ${issue.message}`)
    .join('; ');
}

export function parseScoreConfig(raw: unknown, source = 'options'): ScoreConfig {
  const result = scoreConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(`invalid ${source}: ${describeZodError(result.error)}`);
  return result.data;
}
