// A tenant's contacts as CSV (RFC 4180), streamed page by page. Imported
// values are stored as given, so a cell like `=HYPERLINK(…)` or `=cmd|' /C
// calc'!A0` is data; this export is where it could become a formula, in the
// spreadsheet that opens it. Every cell starting with =, +, -, @, TAB or CR is
// therefore prefixed with ' (OWASP "CSV injection"): spreadsheets show it as
// text. The price: a phone number "+33…" reads "'+33…", which is the
// documented trade-off.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.ts';

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

/** One cell: neutralised against formula injection, then quoted per RFC 4180 when needed. */
export function csvCell(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export const csvLine = (cells: string[]) => cells.map(csvCell).join(',') + '\r\n';

export interface ExportOptions {
  /** one column per list with the contact's subscription status there */
  lists?: boolean;
  /** start with a UTF-8 byte order mark, so spreadsheets read accents right; default true */
  bom?: boolean;
  pageSize?: number;
}

export async function exportContacts(db: Kysely<Database>, tenantId: string, out: Writable, opts: ExportOptions = {}): Promise<{ contacts: number }> {
  const pageSize = opts.pageSize ?? 2000;
  const page = (after: string) => db.selectFrom('contacts').select(['id', 'email', 'fields']).where('tenant_id', '=', tenantId).where('status', '=', 'active')
    .where('id', '>', after).orderBy('id').limit(pageSize).execute();

  // first pass: the field names, which become the header
  const names = new Set<string>();
  for (let after = '', rows = await page(after); rows.length; after = rows[rows.length - 1].id, rows = await page(after)) {
    for (const r of rows) for (const k of Object.keys(JSON.parse(r.fields))) names.add(k);
  }
  const fields = [...names].sort();
  const lists = opts.lists ? await db.selectFrom('lists').select(['id', 'name']).where('tenant_id', '=', tenantId).where('deleted_at', 'is', null).orderBy('name').execute() : [];

  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  await write((opts.bom ?? true ? '\ufeff' : '') + csvLine(['email', ...fields, ...lists.map((l) => `list:${l.name}`)]));
  let count = 0;
  for (let after = '', rows = await page(after); rows.length; after = rows[rows.length - 1].id, rows = await page(after)) {
    const status = new Map<string, string>();
    if (lists.length) {
      const subs = await db.selectFrom('subscriptions').select(['contact_id', 'list_id', 'status', 'quarantined'])
        .where('tenant_id', '=', tenantId).where('contact_id', 'in', rows.map((r) => r.id)).execute();
      for (const s of subs) status.set(`${s.contact_id} ${s.list_id}`, s.quarantined ? `${s.status} (held for review)` : s.status);
    }
    let chunk = '';
    for (const r of rows) {
      const f = JSON.parse(r.fields) as Record<string, unknown>;
      chunk += csvLine([r.email ?? '', ...fields.map((k) => (f[k] === undefined || f[k] === null ? '' : String(f[k]))), ...lists.map((l) => status.get(`${r.id} ${l.id}`) ?? '')]);
    }
    await write(chunk);
    count += rows.length;
  }
  return { contacts: count };
}
