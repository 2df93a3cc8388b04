import type { SqlParams, SqlValue } from '../Engine.js';

/*
 * crm's SQL binds values with `?` (positional) or `$name` (named), as DuckDB
 * takes them; PostgreSQL's protocol takes `$1`, `$2`, … only. The statement is
 * rewritten, never the values: they are still sent apart from the SQL text.
 * String literals, quoted names, comments and dollar-quoted bodies are copied
 * as they are, so a `?` or `$x` inside them stays text.
 */

export interface Bound {
  text: string;
  values: unknown[];
}

/** What the driver sends for a value: BIGINT as its decimal text, the rest as they are. */
const wire = (value: SqlValue): unknown => (typeof value === 'bigint' ? value.toString() : value);

/** The end (exclusive) of the literal, quoted name or comment starting at `i`, or -1 if none starts there. */
function skipQuoted(sql: string, i: number): number {
  const c = sql[i]!;
  if (c === "'" || c === '"') {
    let j = i + 1;
    for (;;) {
      const k = sql.indexOf(c, j);
      if (k < 0) return sql.length;
      if (sql[k + 1] === c) j = k + 2;
      else return k + 1;
    }
  }
  if (c === '-' && sql[i + 1] === '-') {
    const k = sql.indexOf('\n', i);
    return k < 0 ? sql.length : k + 1;
  }
  if (c === '/' && sql[i + 1] === '*') {
    const k = sql.indexOf('*/', i + 2);
    return k < 0 ? sql.length : k + 2;
  }
  if (c === '$') {
    const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
    if (tag) {
      const k = sql.indexOf(tag[0], i + tag[0].length);
      return k < 0 ? sql.length : k + tag[0].length;
    }
  }
  return -1;
}

/** `sql` with `?` and `$name` placeholders as `$n`, and the values in that order. */
export function bindPlaceholders(sql: string, params: SqlParams | undefined): Bound {
  if (params === undefined) return { text: sql, values: [] };
  const positional = Array.isArray(params);
  const named = positional ? null : (params as Readonly<Record<string, SqlValue>>);
  const list = positional ? (params as readonly SqlValue[]) : [];
  const values: unknown[] = positional ? list.map(wire) : [];
  const slots = new Map<string, number>();
  let out = '';
  let question = 0;
  let i = 0;
  while (i < sql.length) {
    const end = skipQuoted(sql, i);
    if (end >= 0) {
      out += sql.slice(i, end);
      i = end;
      continue;
    }
    const c = sql[i]!;
    if (positional && c === '?') {
      question += 1;
      out += `$${question}`;
      i += 1;
      continue;
    }
    const name = !positional && c === '$' ? /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(sql.slice(i)) : null;
    if (name && named) {
      const key = name[1]!;
      if (!(key in named)) throw new Error(`no value given for the parameter $${key}`);
      let slot = slots.get(key);
      if (slot === undefined) {
        values.push(wire(named[key]!));
        slot = values.length;
        slots.set(key, slot);
      }
      out += `$${slot}`;
      i += name[0].length;
      continue;
    }
    out += c;
    i += 1;
  }
  if (positional && question > 0 && question !== list.length) {
    throw new Error(`the statement has ${question} ? placeholders but ${list.length} values were given`);
  }
  return { text: out, values };
}
