import type { ColumnMapping } from './schema.js';
import { InputError } from '../errors.js';

export type Role = 'customer' | 'date' | 'amount' | 'order';

/** Common export names, compared case-insensitively with spaces, dashes and underscores ignored. */
export const KNOWN_COLUMN_NAMES: Record<Role, readonly string[]> = {
  customer: ['customer_id', 'customerid', 'customer', 'cust_id', 'client_id', 'user_id', 'member_id', 'account_id', 'customer_number', 'contact_id'],
  date: ['order_date', 'invoicedate', 'invoice_date', 'transaction_date', 'purchase_date', 'date', 'order_datetime', 'created_at', 'timestamp', 'txn_date', 'sale_date'],
  amount: ['amount', 'revenue', 'totalprice', 'total_price', 'total', 'sales', 'value', 'order_value', 'net_amount', 'price', 'spend'],
  order: ['order_id', 'invoiceno', 'invoice_no', 'invoice', 'invoice_id', 'transaction_id', 'order_number', 'orderid'],
};

export const normalise = (name: string) => name.toLowerCase().replace(/[\s_\-.]/g, '');

export type ResolvedMapping = Record<'customer' | 'date' | 'amount', string> & { order: string | null };

/**
 * Picks the source column for each role. A flag value that is a whole number
 * and no column's name means a 1-based position (for files without a header).
 */
export function resolveColumns(file: string, available: readonly string[], mapping: ColumnMapping, hasHeader: boolean): ResolvedMapping {
  const pick = (role: Role, required: boolean): string | null => {
    const wanted = mapping[role];
    if (wanted !== undefined) {
      if (available.includes(wanted)) return wanted;
      const ci = available.find((c) => c.toLowerCase() === wanted.toLowerCase());
      if (ci) return ci;
      if (/^\d+$/.test(wanted)) {
        const position = Number(wanted);
        if (position >= 1 && position <= available.length) return available[position - 1]!;
        throw new InputError(`${file}: --${role === 'customer' ? 'customer' : role}-col ${wanted} is beyond the ${available.length} column(s) of the file`);
      }
      throw new InputError(`${file}: no column "${wanted}" for the ${role} (columns: ${available.join(', ')})`);
    }
    const byName = new Map(available.map((c) => [normalise(c), c] as const));
    for (const candidate of KNOWN_COLUMN_NAMES[role]) {
      const hit = byName.get(normalise(candidate));
      if (hit !== undefined) return hit;
    }
    if (!required) return null;
    if (!hasHeader) {
      throw new InputError(
        `${file}: the file has no header row; map the columns by position, e.g. --customer-col 1 --date-col 2 --amount-col 3`,
      );
    }
    throw new InputError(
      `${file}: missing ${role} column (looked for ${KNOWN_COLUMN_NAMES[role].slice(0, 4).join(', ')}, …; columns: ${available.join(', ')}); map it with --${role}-col`,
    );
  };
  const customer = pick('customer', true)!;
  const date = pick('date', true)!;
  const amount = pick('amount', true)!;
  const order = pick('order', false);
  const used = [customer, date, amount, ...(order ? [order] : [])];
  if (new Set(used).size !== used.length) {
    throw new InputError(`${file}: one column is mapped to two roles (customer=${customer}, date=${date}, amount=${amount}${order ? `, order=${order}` : ''})`);
  }
  return { customer, date, amount, order };
}
