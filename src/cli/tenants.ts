// `envoi tenant …`, `envoi key …` and `envoi stream …`: accounts from the command line.
import type { Command } from 'commander';
import { CliError, print, table, tenantByRef, withCore } from './context.ts';

export function tenantCommands(program: Command): void {
  const cfg = () => program.opts().config as string | undefined;
  const tenant = program.command('tenant').description('tenants (operator)');
  tenant.command('create <name>').description('create a tenant with its default streams and first API key').option('--json', 'JSON output')
    .action((name: string, o: { json?: boolean }) => withCore(cfg(), async (core) => {
      const r = await core.services.tenants.create(name);
      if (!r.ok) throw new CliError(r.error.detail);
      const { tenant: t, key } = r.value;
      print(o.json, { ...t, apiKey: key }, () => [
        `tenant ${t.name} created (${t.id})`,
        `API key (shown once):`,
        `  key id  ${key.id}`,
        `  secret  ${key.secret}`,
        `  REST    Authorization: Bearer ${key.token}`,
        `  SMTP / Mailjet API: user ${key.id}, password the secret`,
      ].join('\n'));
    }));
  tenant.command('list').option('--json', 'JSON output').action((o: { json?: boolean }) => withCore(cfg(), async (core) => {
    const rows = await core.services.tenants.list();
    print(o.json, rows, () => table(rows.map((t) => ({ ...t, created: new Date(t.created_at).toISOString() })), ['id', 'name', 'status', 'created']));
  }));

  const key = program.command('key').description('API keys of a tenant');
  key.command('create').requiredOption('--tenant <tenant>').option('--label <label>', 'what the key is for', 'cli').option('--json')
    .action((o: { tenant: string; label: string; json?: boolean }) => withCore(cfg(), async (core) => {
      const t = await tenantByRef(core, o.tenant);
      const k = await core.services.keys.create(t.id, o.label);
      print(o.json, k, () => `key id ${k.id}\nsecret ${k.secret} (shown once)\ntoken  ${k.token}`);
    }));
  key.command('list').requiredOption('--tenant <tenant>').option('--json').action((o: { tenant: string; json?: boolean }) => withCore(cfg(), async (core) => {
    const rows = await core.services.keys.list((await tenantByRef(core, o.tenant)).id);
    print(o.json, rows, () => table(rows.map((r) => ({ ...r, revoked: r.revoked_at ? 'yes' : '' })), ['id', 'label', 'revoked']));
  }));
  key.command('revoke <id>').requiredOption('--tenant <tenant>').action((id: string, o: { tenant: string }) => withCore(cfg(), async (core) => {
    const r = await core.services.keys.revoke((await tenantByRef(core, o.tenant)).id, id);
    if (!r.ok) throw new CliError(r.error.detail);
    print(false, null, () => `revoked ${id}`);
  }));

  const stream = program.command('stream').description('streams of a tenant (AF-19)');
  stream.command('list').requiredOption('--tenant <tenant>').option('--json').action((o: { tenant: string; json?: boolean }) => withCore(cfg(), async (core) => {
    const rows = await core.services.streams.list((await tenantByRef(core, o.tenant)).id);
    print(o.json, rows, () => table(rows as never, ['name', 'kind', 'from_address', 'bounce_label', 'ip_pool']));
  }));
  stream.command('set <name>').requiredOption('--tenant <tenant>')
    .option('--kind <kind>', 'transactional | marketing').option('--from <address>', 'the fixed From address of the stream')
    .option('--bounce-label <label>', 'label of the bounce subdomain').option('--ip-pool <pool>', 'IP pool name')
    .action((name: string, o: { tenant: string; kind?: 'transactional' | 'marketing'; from?: string; bounceLabel?: string; ipPool?: string }) => withCore(cfg(), async (core) => {
      if (o.kind && o.kind !== 'transactional' && o.kind !== 'marketing') throw new CliError('--kind is transactional or marketing');
      const r = await core.services.streams.set((await tenantByRef(core, o.tenant)).id, name, { kind: o.kind, fromAddress: o.from, bounceLabel: o.bounceLabel, ipPool: o.ipPool });
      if (!r.ok) throw new CliError(r.error.detail);
      print(false, null, () => `stream ${r.value.name}: ${r.value.kind}, from ${r.value.from_address ?? '(any verified)'}, bounces at ${r.value.bounce_label}.<domain>, pool ${r.value.ip_pool}`);
    }));
}
