/**
 * Which columns an export writes, in which order and under which headers
 * (src/jobs/exportColumns.ts): --columns, --rename, the email first.
 */
import { describe, expect, it } from 'vitest';
import { chooseColumns } from '../../src/jobs/exportColumns.js';
import { UsageError } from '../../src/errors.js';

const CONTACTS = { contactColumns: ['first_name', 'E-Mail', 'last_name'], emailColumn: 'E-Mail' };
/** DESIGN §2's scored columns, customer_id aside. */
const SCORED = [
  'first_purchase', 'last_purchase', 'orders', 'revenue', 'avg_order_value', 'recency_days', 'tenure_days', 'r_score', 'f_score', 'm_score',
  'rfm_cell', 'rfm_segment', 'value_decile', 'frequency', 'recency', 'T', 'monetary_value', 'p_alive', 'expected_purchases', 'expected_avg_value',
  'clv', 'lifecycle_stage', 'cluster', 'cluster_label',
];
const names = (columns: { name: string }[]) => columns.map((c) => c.name);
const headers = (columns: { header: string }[]) => columns.map((c) => c.header);
const usage = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('no usage error');
};

describe('the columns of an export', () => {
  it('by default: the email first, the id, the other contacts, then a short set of scores', () => {
    const short = ['rfm_segment', 'lifecycle_stage', 'clv', 'p_alive', 'orders', 'revenue', 'last_purchase'];
    expect(names(chooseColumns(CONTACTS, {}))).toEqual(['E-Mail', 'customer_id', 'first_name', 'last_name', ...short]);
    expect(names(chooseColumns({ contactColumns: [] }, {}))).toEqual(['customer_id', ...short]);
    // Contacts without an email column: the id first, as before.
    expect(names(chooseColumns({ contactColumns: ['phone'] }, {}))).toEqual(['customer_id', 'phone', ...short]);
  });

  it('--columns all: every scored column of DESIGN §2, after the contacts', () => {
    const all = names(chooseColumns(CONTACTS, { columns: ['all'] }));
    expect(all.slice(0, 4)).toEqual(['E-Mail', 'customer_id', 'first_name', 'last_name']);
    // In the contract's order, then the history's own two; not clv_low and clv_high, which the history does not keep.
    expect(all.slice(4)).toEqual([...SCORED, 'previous_segment', 'segment_changed_at']);
    expect(new Set(all).size).toBe(all.length);
  });

  it('--columns: the order given, comma lists and repeats alike, names in any case', () => {
    const chosen = chooseColumns(CONTACTS, { columns: ['e-mail, RFM_SEGMENT', 'clv,t'] });
    expect(names(chosen)).toEqual(['E-Mail', 'rfm_segment', 'clv', 'T']);
    expect(headers(chosen)).toEqual(['E-Mail', 'rfm_segment', 'clv', 'T']);
  });

  it('--rename: the header only, in the chosen order; the same name twice, or two columns under one header, is refused', () => {
    const chosen = chooseColumns(CONTACTS, { columns: ['E-Mail,first_name,clv'], renames: ['E-Mail=Email', 'first_name=First Name,clv = predicted_value'] });
    expect(chosen).toEqual([
      { name: 'E-Mail', header: 'Email' },
      { name: 'first_name', header: 'First Name' },
      { name: 'clv', header: 'predicted_value' },
    ]);
    // Swapping two names is fine: no two columns end up under one header.
    expect(headers(chooseColumns(CONTACTS, { columns: ['first_name,last_name'], renames: ['first_name=last_name,last_name=first_name'] }))).toEqual(['last_name', 'first_name']);
    expect(usage(() => chooseColumns(CONTACTS, { columns: ['clv,revenue'], renames: ['clv=Revenue'] }))).toBe('--rename: clv and revenue would both be written as "Revenue" (headers are compared without case); choose another name');
    expect(usage(() => chooseColumns(CONTACTS, { columns: ['clv,revenue'], renames: ['clv=a,revenue=a'] }))).toBe('--rename: clv and revenue would both be written as "a"; choose another name');
    expect(usage(() => chooseColumns(CONTACTS, { renames: ['clv=a', 'CLV=b'] }))).toBe('--rename renames clv twice');
    expect(usage(() => chooseColumns(CONTACTS, { renames: ['clv'] }))).toBe('--rename "clv": give old=new, e.g. --rename clv=predicted_value');
    expect(usage(() => chooseColumns(CONTACTS, { renames: ['clv='] }))).toBe('--rename "clv=": give old=new, e.g. --rename clv=predicted_value');
  });

  it('unknown names list the columns there are; a column not chosen cannot be renamed; all stands alone; no name twice', () => {
    const unknown = usage(() => chooseColumns(CONTACTS, { columns: ['email,clv,segment'] }));
    expect(unknown).toMatch(/^--columns "email", "segment": no such column; the columns are E-Mail, customer_id, first_name, last_name, first_purchase, /);
    for (const column of SCORED) expect(unknown).toContain(`, ${column}`);
    expect(usage(() => chooseColumns({ contactColumns: [] }, { columns: ['email'] }))).toMatch(/^--columns "email": no such column; the columns are customer_id, .*\(and, with --contacts, those of the contacts file\)$/);
    expect(usage(() => chooseColumns(CONTACTS, { renames: ['segment=x'] }))).toMatch(/^--rename "segment": no such column;/);
    expect(usage(() => chooseColumns(CONTACTS, { columns: ['clv'], renames: ['revenue=value'] }))).toBe('--rename revenue=value: revenue is not among the exported columns (clv); add it to --columns');
    expect(usage(() => chooseColumns(CONTACTS, { columns: ['all,clv'] }))).toMatch(/^--columns all stands alone/);
    expect(usage(() => chooseColumns(CONTACTS, { columns: ['clv,CLV'] }))).toBe('--columns lists clv twice');
    expect(usage(() => chooseColumns(CONTACTS, { columns: ['clv,,revenue'] }))).toBe('--columns "clv,,revenue" has an empty name');
  });
});
