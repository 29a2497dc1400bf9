// `envoi sandbox …`: what the sandbox captured.
import type { Command } from 'commander';
import { CliError, print, table, tenantByRef, withCore } from './context.ts';

export function sandboxCommands(program: Command): void {
  const cfg = () => program.opts().config as string | undefined;
  const sb = program.command('sandbox').description('messages captured by the sandbox');
  sb.command('list').option('--tenant <tenant>').option('--limit <n>', 'how many, newest first', '50').option('--json')
    .action((o: { tenant?: string; limit: string; json?: boolean }) => withCore(cfg(), async (core) => {
      const tenantId = o.tenant ? (await tenantByRef(core, o.tenant)).id : null;
      const rows = await core.services.sandbox.list(tenantId, { limit: Number(o.limit) || 50 });
      print(o.json, rows, () => table(rows.map((r) => ({ ...r, at: new Date(r.created_at).toISOString() })), ['id', 'at', 'from_address', 'rcpt_to', 'subject']));
    }));
  sb.command('show <id>').option('--raw', 'print the message source only').option('--json')
    .action((id: string, o: { raw?: boolean; json?: boolean }) => withCore(cfg(), async (core) => {
      const e = await core.services.sandbox.get(null, id);
      if (!e) throw new CliError(`no sandbox message ${id}`);
      if (o.raw) {
        process.stdout.write(e.raw);
        return;
      }
      const { raw, ...meta } = e;
      print(o.json, { ...meta, raw: raw.toString('utf8') }, () =>
        `id        ${e.id}\nenvelope  ${e.mail_from} -> ${e.rcpt_to}\nsize      ${e.size} bytes\n\n${raw.toString('utf8')}`);
    }));
  sb.command('export').requiredOption('--out <dir>', 'folder to write one .eml per message into').option('--tenant <tenant>')
    .action((o: { out: string; tenant?: string }) => withCore(cfg(), async (core) => {
      const tenantId = o.tenant ? (await tenantByRef(core, o.tenant)).id : null;
      const files = await core.services.sandbox.export(tenantId, o.out);
      print(false, null, () => `${files.length} message(s) written to ${o.out}`);
    }));
}
