// `envoi import …` and `envoi contacts export`: CSV imports with their
// provenance (MJ-4, MJ-6), a progress bar, the report, the operator's review
// of quarantined imports, and the formula-safe CSV export of contacts.
import fs from 'node:fs';
import os from 'node:os';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import type { Core } from '../app.ts';
import { createResolver } from '../net/resolver.ts';
import { createImports, type ImportReport, type ImportStatus } from '../audience/import/index.ts';
import { exportContacts } from '../audience/import/export.ts';
import { explainSignal } from '../audience/import/policy.ts';
import type { FileProvenance, ProvenanceKey } from '../audience/import/provenance.ts';
import { CliError, print, tenantByRef, withCore } from './context.ts';

interface ImportFlags {
  tenant?: string;
  list?: string;
  emailColumn: string;
  field?: Record<string, string>;
  source?: string;
  collectedAt?: string;
  method?: string;
  consentText?: string;
  formUrl?: string;
  ip?: string;
  confirmedAt?: string;
  relationship?: string;
  informedHow?: string;
  provenanceColumns?: Record<string, string>;
  encoding?: string;
  dns?: string;
  batchSize?: string;
  json?: boolean;
}

const pair = (flag: string) => (value: string, into: Record<string, string> = {}) => {
  for (const part of value.split(',')) {
    const [k, ...rest] = part.split('=');
    if (!k?.trim() || !rest.length || !rest.join('=').trim()) throw new CliError(`${flag} takes name=column (got "${part}")`);
    into[k.trim()] = rest.join('=').trim();
  }
  return into;
};

// the platform resolver; the configured servers come later, --dns points tests at a loopback server
function resolverFor(dns?: string) {
  try {
    return createResolver(dns ? { servers: [dns] } : {});
  } catch (e) {
    throw new CliError(`--dns ${dns}: ${(e as Error).message}`);
  }
}
const importsOf = (core: Core, dns?: string, batchSize?: number) =>
  createImports({ db: core.store.db, dialect: core.store.dialect, clock: core.clock, resolver: dns ? resolverFor(dns) : core.services.resolver, ...(batchSize ? { batchSize } : {}) });

export function importCommands(program: Command): void {
  const cfg = () => program.opts().config as string | undefined;
  const imp = program.command('import').description('import contacts from a CSV file, with their consent provenance (MJ-4)')
    .argument('<file>', 'CSV file, UTF-8 (the first line names the columns)')
    .option('--tenant <tenant>', 'required').option('--list <list>', 'list name or id (required)')
    .option('--email-column <column>', 'column holding the address', 'email')
    .option('--field <name=column>', 'a contact field and its column (repeatable)', pair('--field'))
    .option('--source <source>', 'for the whole file: form, api, import, contest, customer or other')
    .option('--collected-at <iso>', 'for the whole file: when the addresses were collected (ISO 8601)')
    .option('--method <method>', 'for the whole file: double, confirmed, single or none')
    .option('--consent-text <text>', 'for the whole file: the exact consent wording shown')
    .option('--form-url <url>').option('--ip <ip>').option('--confirmed-at <iso>')
    .option('--relationship <text>', 'with --method none: the existing relationship').option('--informed-how <text>', 'with --method none: how the person was informed')
    .option('--provenance-columns <key=column,…>', `per-row provenance columns (source, collected_at, method, consent_text, form_url, ip, user_agent, confirmed_at, relationship, informed_how)`, pair('--provenance-columns'))
    .option('--encoding <encoding>', 'utf-8 (default) or windows-1252')
    .option('--dns <ip:port>', 'DNS server for the domain checks (default: the system\'s)')
    .option('--batch-size <n>', 'rows per transaction')
    .option('--json')
    .action((file: string, o: ImportFlags) => withCore(cfg(), async (core) => {
      // not commander's requiredOption: `import status <id>` would then ask for them too
      const tenant = await tenantByRef(core, o.tenant);
      if (!o.list) throw new CliError('--list <name or id> is required');
      const provenance: FileProvenance | undefined = o.source || o.collectedAt || o.method || o.consentText
        ? { source: o.source ?? '', collectedAt: o.collectedAt ?? '', method: o.method ?? '', consentText: o.consentText, formUrl: o.formUrl, ip: o.ip, confirmedAt: o.confirmedAt, relationship: o.relationship, informedHow: o.informedHow }
        : undefined;
      const bar = progressBar(!o.json);
      try {
        const r = await importsOf(core, o.dns, Number(o.batchSize) || undefined).run({
          tenantId: tenant.id, listRef: o.list, file, mapping: { email: o.emailColumn, fields: o.field ?? {}, provenance: o.provenanceColumns as Partial<Record<ProvenanceKey, string>> },
          provenance, encoding: o.encoding as 'utf-8' | 'windows-1252' | undefined, onProgress: bar.update,
        });
        bar.stop();
        if (!r.ok) throw new CliError(r.error.detail);
        print(o.json, r.value, () => reportText(r.value));
      } finally {
        bar.stop();
      }
    }));

  // `import` has a --json of its own, which commander gives the parent when both define it
  const json = (o: { json?: boolean }) => o.json || (imp.opts() as { json?: boolean }).json;
  imp.command('status <id>').description('the job status and report of an import').option('--json').option('--rejects <n>', 'refused lines to show', '20')
    .action((id: string, o: { json?: boolean; rejects: string }) => withCore(cfg(), async (core) => {
      const imports = importsOf(core);
      const s = await imports.status(null, id);
      if (!s.ok) throw new CliError(s.error.detail);
      const rejects = await imports.rejects(null, id, { limit: Number(o.rejects) || 20 });
      print(json(o), { ...s.value, rejects: rejects.ok ? rejects.value : [] }, () =>
        statusText(s.value) + (rejects.ok && rejects.value.length ? '\nrefused lines:\n' + rejects.value.map((x) => `  line ${x.line}: ${x.reason}`).join('\n') : ''));
    }));
  for (const decision of ['approve', 'reject'] as const) {
    imp.command(`${decision} <id>`).description(decision === 'approve' ? 'operator: release a quarantined import (its contacts become mailable)' : 'operator: reject a quarantined import (its contacts stay held)')
      .option('--json').action((id: string, o: { json?: boolean }) => withCore(cfg(), async (core) => {
        const imports = importsOf(core);
        const actor = `operator:cli:${os.userInfo().username}`;
        const r = decision === 'approve' ? await imports.approveImport(null, id, actor) : await imports.rejectImport(null, id, actor);
        if (!r.ok) throw new CliError(r.error.detail);
        print(json(o), r.value, () => `import ${id} ${r.value.status} by ${actor}`);
      }));
  }

  // another file may own `envoi contacts`: join it rather than clash
  const contacts = program.commands.find((c) => c.name() === 'contacts') ?? program.command('contacts').description('contacts of a tenant');
  contacts.command('export').description('write a tenant\'s contacts as CSV (cells that could run as formulas are neutralised)')
    .requiredOption('--tenant <tenant>').requiredOption('--out <file>').option('--lists', 'a column per list with the subscription status').option('--no-bom', 'no UTF-8 byte order mark')
    .action((o: { tenant: string; out: string; lists?: boolean; bom: boolean }) => withCore(cfg(), async (core) => {
      const tenant = await tenantByRef(core, o.tenant);
      const out = fs.createWriteStream(o.out);
      const { contacts: n } = await exportContacts(core.store.db, tenant.id, out, { lists: o.lists, bom: o.bom });
      out.end();
      await finished(out);
      print(false, null, () => `${n} contact(s) written to ${o.out}`);
    }));
}

/** The bar appears at the first progress report, so an import refused up front prints only its error. */
function progressBar(enabled: boolean) {
  let bar: cliProgress.SingleBar | null = null;
  return {
    update(lines: number, bytes: number, total: number) {
      if (!enabled) return;
      if (!bar) {
        bar = new cliProgress.SingleBar({
          format: 'importing |{bar}| {percentage}% | line {line} | ETA {eta_formatted}', stream: process.stderr,
          noTTYOutput: !process.stderr.isTTY, hideCursor: true,
        }, cliProgress.Presets.shades_classic);
        bar.start(total, 0, { line: 0 });
      }
      bar.update(Math.min(bytes, total), { line: lines });
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}

export function reportText(r: ImportReport): string {
  const c = r.counts;
  const lines = [
    `import ${r.importId} (${r.fileName} → list ${r.list.name}): ${r.status}${r.alreadyImported ? ' (this file was imported before: nothing changed)' : ''}`,
    `rows ${c.rows}: accepted ${c.accepted}, merged ${c.merged}, refused ${c.refused}; subscriptions: ${c.subscribed} subscribed, ${c.pending} pending; unverified domains ${c.unverifiedDomains}`,
  ];
  const reasons = (title: string, m: Record<string, number | undefined>) => {
    const e = Object.entries(m).filter(([, n]) => n);
    if (e.length) lines.push(`${title}: ` + e.sort((a, b) => b[1]! - a[1]!).map(([k, n]) => `${k} ${n}`).join(', '));
  };
  reasons('refused', r.refusals);
  reasons('merged', r.merges);
  if (r.unverifiedDomainNames.length) lines.push(`unverified: ${r.unverifiedDomainNames.join(', ')}`);
  if (r.quarantine.quarantine) {
    lines.push('QUARANTINED (MJ-4): its contacts are not mailable until an operator runs `envoi import approve ' + r.importId + '`');
    for (const s of r.quarantine.signals) lines.push(`  - ${explainSignal(s)}`);
  }
  for (const n of r.notes.filter((x) => !x.startsWith('quarantine:'))) lines.push(`note: ${n}`);
  if (c.refused) lines.push(`refused lines: envoi import status ${r.importId}`);
  return lines.join('\n');
}

function statusText(s: ImportStatus): string {
  const head = `import ${s.id}: ${s.status}, file ${s.fileName}, committed up to line ${s.checkpointLine}` + (s.reviewedBy ? `, reviewed by ${s.reviewedBy}` : '') +
    (s.status === 'running' ? (s.lease ? `, being read by ${s.lease.holder} (lease until ${s.lease.until})` : ', stopped: run the same import again to resume') : '');
  return s.report ? `${head}\n${reportText(s.report).split('\n').slice(1).join('\n')}` : head;
}
