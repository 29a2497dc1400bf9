// `envoi profile set`, `envoi template …`, `envoi campaign …`: composition and
// campaigns from the command line.
import fs from 'node:fs';
import type { Command } from 'commander';
import { CliError, print, table, tenantByRef, withCore } from './context.ts';
import type { Core } from '../app.ts';

const must = <T>(r: { ok: true; value: T } | { ok: false; error: { detail: string } }): T => {
  if (!r.ok) throw new CliError(r.error.detail);
  return r.value;
};

export function campaignCommands(program: Command): void {
  const cfg = () => program.opts().config as string | undefined;

  program.command('profile').description('the sender identity printed in marketing mail (MC-11, MC-12)').command('set')
    .requiredOption('--tenant <tenant>').requiredOption('--organisation <name>').requiredOption('--postal-address <address>')
    .requiredOption('--phone <phone>').requiredOption('--domain <domain>', "the organisation's own domain").option('--timezone <tz>', 'IANA time zone', 'UTC')
    .action((o: { tenant: string; organisation: string; postalAddress: string; phone: string; domain: string; timezone: string }) => withCore(cfg(), async (core) => {
      const t = await tenantByRef(core, o.tenant);
      must(await core.services.profiles.set(t.id, { organisation: o.organisation, postalAddress: o.postalAddress, phone: o.phone, organisationDomain: o.domain, timezone: o.timezone }));
      print(false, null, () => `sender identity of ${t.name} saved`);
    }));

  const tpl = program.command('template').description('versioned templates (MJML or HTML with Liquid)');
  tpl.command('save <name> <file>').description('create the template, or add a version').requiredOption('--tenant <tenant>').requiredOption('--subject <subject>')
    .option('--format <format>', 'mjml | html (default: from the file extension)').option('--text <file>', 'a hand-written text part')
    .action((name: string, file: string, o: { tenant: string; subject: string; format?: string; text?: string }) => withCore(cfg(), async (core) => {
      const t = await tenantByRef(core, o.tenant);
      const format = (o.format ?? (file.endsWith('.mjml') ? 'mjml' : 'html')) as 'mjml' | 'html';
      if (format !== 'mjml' && format !== 'html') throw new CliError('--format: mjml or html');
      const read = (f: string) => {
        try {
          return fs.readFileSync(f, 'utf8');
        } catch (e) {
          throw new CliError(`cannot read ${f}: ${(e as Error).message}`);
        }
      };
      const src = { format, subject: o.subject, body: read(file), text: o.text ? read(o.text) : undefined };
      const existing = await core.services.campaigns.templates.find(t.id, name);
      const v = existing ? must(await core.services.campaigns.templates.update(t.id, name, src)) : must(await core.services.campaigns.templates.create(t.id, name, src)).version;
      print(false, null, () => `template ${name} version ${v.version} saved`);
    }));
  tpl.command('list').requiredOption('--tenant <tenant>').option('--json').action((o: { tenant: string; json?: boolean }) => withCore(cfg(), async (core) => {
    const rows = await core.services.campaigns.templates.list((await tenantByRef(core, o.tenant)).id);
    print(o.json, rows, () => table(rows as never, ['id', 'name', 'latest']));
  }));

  const camp = program.command('campaign').description('marketing campaigns');
  camp.command('create <name>').requiredOption('--tenant <tenant>').requiredOption('--template <template>').requiredOption('--list <list...>')
    .option('--segment <filter>').option('--from <address>').option('--from-name <name>').option('--reply-to <address>').option('--json')
    .action((name: string, o: { tenant: string; template: string; list: string[]; segment?: string; from?: string; fromName?: string; replyTo?: string; json?: boolean }) =>
      withCore(cfg(), async (core) => {
        const t = await tenantByRef(core, o.tenant);
        const c = must(await core.services.campaigns.lifecycle.create(t.id, { name, template: o.template, lists: o.list, segment: o.segment, fromAddress: o.from, fromName: o.fromName, replyTo: o.replyTo }));
        print(o.json, c, () => `campaign ${c.name} created (${c.id}), draft`);
      }));
  camp.command('list').requiredOption('--tenant <tenant>').option('--json').action((o: { tenant: string; json?: boolean }) => withCore(cfg(), async (core) => {
    const rows = await core.services.campaigns.lifecycle.list((await tenantByRef(core, o.tenant)).id);
    print(o.json, rows, () => table(rows as never, ['id', 'name', 'status', 'enqueued', 'status_reason']));
  }));
  camp.command('preview <id>').description('render for a contact (--email) or sample fields, and show the content checks').requiredOption('--tenant <tenant>')
    .option('--email <address>', 'a contact of the tenant').option('--field <name=value...>').option('--json')
    .action((id: string, o: { tenant: string; email?: string; field?: string[]; json?: boolean }) => withCore(cfg(), async (core) => {
      const c = await load(core, o.tenant, id);
      let fields: Record<string, unknown> = Object.fromEntries((o.field ?? []).map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)]));
      if (o.email) {
        const contact = await core.services.audience.contacts.find(c.tenant_id, o.email);
        if (!contact || contact.status !== 'active') throw new CliError(`no contact ${o.email}`);
        fields = { ...JSON.parse(contact.fields), email: contact.email, ...fields };
      }
      const r = must(await core.services.campaigns.lifecycle.check(c, fields));
      print(o.json, r, () => [`Subject: ${r.subject}`, '', r.text, '', 'Checks:', ...(r.findings.length ? r.findings.map((f) => `  ${f.severity.padEnd(6)} ${f.id}: ${f.message}${f.excerpt ? ` — "${f.excerpt}"` : ''}\n         fix: ${f.fix}`) : ['  none'])].join('\n'));
    }));
  const step = (verb: string, description: string, run: (core: Core, tenantId: string, id: string, o: Record<string, string>) => Promise<unknown>) =>
    camp.command(`${verb} <id>`).description(description).requiredOption('--tenant <tenant>').option('--at <when>', 'schedule: ISO time, or YYYY-MM-DDTHH:MM in the tenant time zone')
      .action((id: string, o: Record<string, string>) => withCore(cfg(), async (core) => {
        const t = await tenantByRef(core, o.tenant);
        const c = (await run(core, t.id, id, o)) as { name: string; status: string; status_reason: string | null };
        print(false, null, () => `campaign ${c.name}: ${c.status}${c.status_reason ? ` (${c.status_reason})` : ''}`);
      }));
  step('submit', 'run the checks; approved, or review when an operator must look', async (core, t, id) => must(await core.services.campaigns.lifecycle.submit(t, id)));
  step('schedule', 'send now, or at --at', async (core, t, id, o) => must(await core.services.campaigns.lifecycle.schedule(t, id, o.at)));
  step('pause', 'stop sending; queued messages wait', async (core, t, id) => must(await core.services.campaigns.lifecycle.pause(t, id)));
  step('resume', 'go on sending', async (core, t, id) => must(await core.services.campaigns.lifecycle.resume(t, id)));
  step('cancel', 'stop for good', async (core, t, id) => must(await core.services.campaigns.lifecycle.cancel(t, id)));
  camp.command('approve <id>').description('operator: let a campaign in review be sent').action((id: string) => withCore(cfg(), async (core) => {
    const c = must(await core.services.campaigns.lifecycle.approve(id, 'operator:cli'));
    print(false, null, () => `campaign ${c.name}: ${c.status}`);
  }));
  camp.command('test <id>').description('send the campaign, marked [TEST], to a few addresses').requiredOption('--tenant <tenant>').requiredOption('--to <address...>')
    .action((id: string, o: { tenant: string; to: string[] }) => withCore(cfg(), async (core) => {
      const t = await tenantByRef(core, o.tenant);
      const r = must(await core.services.campaigns.testSend(t.id, id, o.to));
      print(false, null, () => `test sent to ${r.recipients.map((x) => x.email).join(', ')}`);
    }));

  async function load(core: Core, tenant: string, id: string) {
    const t = await tenantByRef(core, tenant);
    const c = await core.services.campaigns.lifecycle.get(t.id, id);
    if (!c) throw new CliError(`no campaign ${id}`);
    return c;
  }
}
