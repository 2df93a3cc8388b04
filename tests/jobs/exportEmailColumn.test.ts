import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { pickEmailColumn } from '../../src/jobs/exportSelection.js';

/** Which contacts column crm export checks addresses in (the CLI side is in tests/e2e/mailing.test.ts). */
describe('pickEmailColumn', () => {
  it('finds the known names whatever their case, spacing or dashes', () => {
    for (const name of ['email', 'E-Mail', 'Email Address', 'email_address', 'MAIL', 'contact_email', 'Customer-Email', 'Courriel']) {
      expect(pickEmailColumn('c.csv', ['customer_id', 'name', name], 'customer_id', undefined), name).toEqual({ column: name });
    }
  });

  it('with several, checks the best known name and says so', () => {
    expect(pickEmailColumn('c.csv', ['customer_id', 'contact_email', 'Email'], 'customer_id', undefined)).toEqual({
      column: 'Email',
      warning: '--contacts c.csv has several email columns (Email, contact_email): addresses checked in Email; name another with --email-col',
    });
  });

  it('a name that only contains mail is not an email column: none found is a warning', () => {
    expect(pickEmailColumn('c.csv', ['customer_id', 'mailing_list', 'email_opt_in'], 'customer_id', undefined)).toEqual({
      column: null,
      warning: '--contacts c.csv has no email column (columns: customer_id, mailing_list, email_opt_in): addresses were not checked; name it with --email-col',
    });
  });

  it('--email-col wins over the known names, matched exactly, else whatever its case; the id column or a missing one is a usage error', () => {
    expect(pickEmailColumn('c.csv', ['customer_id', 'email', 'Work Address'], 'customer_id', 'work address')).toEqual({ column: 'Work Address' });
    expect(() => pickEmailColumn('c.csv', ['customer_id', 'email'], 'customer_id', 'Customer_ID')).toThrow(new UsageError('--email-col Customer_ID is the customer id column of --contacts c.csv'));
    expect(() => pickEmailColumn('c.csv', ['customer_id', 'email'], 'customer_id', 'mail')).toThrow(UsageError);
  });
});
