/** Only src/engine/postgres/ knows the PostgreSQL driver (DESIGN §4): every other module reaches it through an Engine. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');
const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(path.join(dir, entry.name)) : entry.name.endsWith('.ts') ? [path.join(dir, entry.name)] : [],
  );
const IMPORTS_PG = /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](?:pg|pg-copy-streams|pg-native)(?:\/[^'"]*)?['"]/;

describe('the PostgreSQL driver', () => {
  it('is imported under src/engine/postgres/ only', () => {
    const files = sources(SRC);
    const importing = files.filter((file) => IMPORTS_PG.test(readFileSync(file, 'utf8'))).map((file) => path.relative(SRC, file));
    expect(importing.length).toBeGreaterThan(0);
    expect(importing.filter((file) => !file.startsWith(`engine${path.sep}postgres${path.sep}`))).toEqual([]);
  });
});
