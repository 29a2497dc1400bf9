// `envoi domain …`: sending domains and the DNS records to publish.
import type { Command } from 'commander';
import { CliError, print, table, tenantByRef, withCore } from './context.ts';

export function domainCommands(program: Command): void {
  const cfg = () => program.opts().config as string | undefined;
  const domain = program.command('domain').description('sending domains');
  domain.command('add <domain>').description('add a sending domain: generates its DKIM keys (RSA-2048 and Ed25519)')
    .requiredOption('--tenant <tenant>').option('--json')
    .action((name: string, o: { tenant: string; json?: boolean }) => withCore(cfg(), async (core) => {
      const r = await core.services.domains.add((await tenantByRef(core, o.tenant)).id, name);
      if (!r.ok) throw new CliError(r.error.detail);
      const records = await core.services.domains.records(r.value);
      print(o.json, { ...r.value, records }, () => `domain ${r.value.name} added (${r.value.id}). Publish these records:\n\n` + recordsText(records));
    }));
  domain.command('list').requiredOption('--tenant <tenant>').option('--json').action((o: { tenant: string; json?: boolean }) => withCore(cfg(), async (core) => {
    const rows = await core.services.domains.list((await tenantByRef(core, o.tenant)).id);
    print(o.json, rows, () => table(rows.map((d) => ({ ...d, verified: d.verified ? 'yes' : 'no' })), ['id', 'name', 'verified']));
  }));
  domain.command('records <domain>').description('the DNS records to publish for a domain; --json prints [{type, name, value}]').option('--json')
    .action((name: string, o: { json?: boolean }) => withCore(cfg(), async (core) => {
      const d = await core.services.domains.findByName(name);
      if (!d) throw new CliError(`no domain ${name}`);
      const records = await core.services.domains.records(d);
      print(o.json, records.map(({ type, name: n, value }) => ({ type, name: n, value })), () => recordsText(records));
    }));
}

function recordsText(records: { type: string; name: string; value: string; purpose: string }[]): string {
  return records.map((r) => `${r.type.padEnd(5)} ${r.name}\n      ${r.value}\n      (${r.purpose})`).join('\n');
}
