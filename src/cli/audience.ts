// `envoi list …`, `envoi subscribe`, `envoi contact …`, `envoi suppression …`,
// `envoi consent proof`, `envoi audience count`: the audience stage from the
// command line.
import type { Command } from 'commander';
import { CliError, print, table, tenantByRef, withCore } from './context.ts';
import type { SuppressionReason } from '../store/schema.ts';
import { SUPPRESSION_REASONS } from '../audience/suppression.ts';
import type { ConsentInput } from '../audience/consent.ts';

export function audienceCommands(program: Command): void {
  const cfg = () => program.opts().config as string | undefined;

  const list = program.command('list').description('lists of a tenant');
  list.command('create <name>').requiredOption('--tenant <tenant>').requiredOption('--from <address>', 'the fixed From of the list (AF-14)')
    .requiredOption('--from-name <name>').requiredOption('--consent-text <text>', 'the exact words beside the consent box')
    .option('--description <text>').option('--single-opt-in', 'no confirmation mail (recorded as single opt-in)')
    .option('--allow-relationship', 'existing customers without opt-in may be mailed when the relationship is recorded').option('--json')
    .action((name: string, o: { tenant: string; from: string; fromName: string; consentText: string; description?: string; singleOptIn?: boolean; allowRelationship?: boolean; json?: boolean }) =>
      withCore(cfg(), async (core) => {
        const t = await tenantByRef(core, o.tenant);
        const r = await core.services.audience.lists.create(t.id, {
          name, fromAddress: o.from, fromName: o.fromName, consentText: o.consentText, description: o.description,
          optIn: o.singleOptIn ? 'single' : 'double', allowRelationship: o.allowRelationship,
        });
        if (!r.ok) throw new CliError(r.error.detail);
        print(o.json, r.value, () => `list ${r.value.name} created (${r.value.id}), ${r.value.opt_in} opt-in, from ${r.value.from_name} <${r.value.from_address}>\nhosted form: ${core.services.publicUrl()}/f/${r.value.id}`);
      }));
  list.command('list').requiredOption('--tenant <tenant>').option('--json').action((o: { tenant: string; json?: boolean }) => withCore(cfg(), async (core) => {
    const t = await tenantByRef(core, o.tenant);
    const rows = await core.services.audience.lists.list(t.id);
    const withCounts = await Promise.all(rows.map(async (l) => ({ ...l, ...(await core.services.audience.mailable.sunset(t.id, [l.id])) })));
    print(o.json, withCounts, () => table(withCounts as never, ['id', 'name', 'opt_in', 'from_address', 'mailable', 'flagged', 'sunset']));
  }));

  program.command('subscribe <email>').description('subscribe an address to a list, stating how consent was collected')
    .requiredOption('--tenant <tenant>').requiredOption('--list <list>')
    .requiredOption('--source <source>', 'form | api | import | contest | customer | other')
    .requiredOption('--opt-in <type>', 'single | confirmed | double | none')
    .option('--collected-at <iso>').option('--confirmed-at <iso>').option('--ip <ip>').option('--form-url <url>')
    .option('--relationship <text>', 'without opt-in: the existing relationship').option('--informed-how <text>', 'without opt-in: how the person was informed')
    .option('--field <name=value...>', 'custom fields').option('--json')
    .action((email: string, o: { tenant: string; list: string; source: ConsentInput['source']; optIn: ConsentInput['optIn']; collectedAt?: string; confirmedAt?: string; ip?: string; formUrl?: string; relationship?: string; informedHow?: string; field?: string[]; json?: boolean }) =>
      withCore(cfg(), async (core) => {
        if (!['form', 'api', 'import', 'contest', 'customer', 'other'].includes(o.source)) throw new CliError('--source: form, api, import, contest, customer or other');
        if (!['single', 'confirmed', 'double', 'none'].includes(o.optIn)) throw new CliError('--opt-in: single, confirmed, double or none');
        const t = await tenantByRef(core, o.tenant);
        const l = await core.services.audience.lists.find(t.id, o.list);
        if (!l) throw new CliError(`no list ${o.list}`);
        const date = (s: string | undefined, flag: string) => {
          if (s === undefined) return undefined;
          const v = Date.parse(s);
          if (Number.isNaN(v)) throw new CliError(`${flag}: not a date: ${s}`);
          return v;
        };
        const fields = Object.fromEntries((o.field ?? []).map((f) => {
          const eq = f.indexOf('=');
          if (eq < 1) throw new CliError(`--field ${f}: expected name=value`);
          return [f.slice(0, eq), f.slice(eq + 1)];
        }));
        const r = await core.services.audience.subscriptions.subscribe(t.id, l, email, fields, {
          source: o.source, optIn: o.optIn, collectedAt: date(o.collectedAt, '--collected-at'), confirmedAt: date(o.confirmedAt, '--confirmed-at'),
          ip: o.ip, formUrl: o.formUrl, relationship: o.relationship, informedHow: o.informedHow,
        });
        if (!r.ok) throw new CliError(r.error.detail);
        print(o.json, r.value, () => `${r.value.contact.email}: ${r.value.alreadySubscribed ? 'already subscribed' : r.value.subscription.status} on ${l.name}`);
      }));

  const contact = program.command('contact').description('contacts of a tenant');
  contact.command('show <email>').requiredOption('--tenant <tenant>').option('--json').action((email: string, o: { tenant: string; json?: boolean }) => withCore(cfg(), async (core) => {
    const t = await tenantByRef(core, o.tenant);
    const c = await core.services.audience.contacts.find(t.id, email);
    if (!c || c.status !== 'active') throw new CliError(`no contact ${email}`);
    const subs = await core.services.audience.subscriptions.ofContact(t.id, c.id);
    const timeline = await core.services.audience.timeline(t.id, c.id);
    print(o.json, { contact: c, subscriptions: subs, timeline }, () => [
      `${c.email} (${c.id}) fields ${c.fields}`, '', table(subs as never, ['list', 'status']), '',
      ...timeline.map((e) => `${e.at}  ${e.type}  ${JSON.stringify(e.data)}`),
    ].join('\n'));
  }));
  contact.command('erase <email>').description('privacy request: delete personal data, keep the address suppressed').requiredOption('--tenant <tenant>')
    .action((email: string, o: { tenant: string }) => withCore(cfg(), async (core) => {
      const r = await core.services.audience.contacts.erase((await tenantByRef(core, o.tenant)).id, email);
      if (!r.ok) throw new CliError(r.error.detail);
      print(false, null, () => `erased ${email}; its hash stays on the suppression list`);
    }));

  const sup = program.command('suppression').description('the suppression list of a tenant (AF-7)');
  sup.command('list').requiredOption('--tenant <tenant>').option('--search <prefix>').option('--reason <reason>').option('--json')
    .action((o: { tenant: string; search?: string; reason?: string; json?: boolean }) => withCore(cfg(), async (core) => {
      const rows = await core.services.audience.suppression.page((await tenantByRef(core, o.tenant)).id, { query: o.search, reason: o.reason as SuppressionReason | undefined, limit: 500 });
      print(o.json, rows, () => table(rows.map((r) => ({ ...r, email: r.email ?? '(erased)', at: new Date(r.created_at).toISOString() })), ['email', 'reason', 'source', 'at']));
    }));
  sup.command('add <email>').requiredOption('--tenant <tenant>').option('--reason <reason>', SUPPRESSION_REASONS.join(' | '), 'manual').option('--note <text>')
    .action((email: string, o: { tenant: string; reason: string; note?: string }) => withCore(cfg(), async (core) => {
      const r = await core.services.audience.suppression.add((await tenantByRef(core, o.tenant)).id, email, o.reason as SuppressionReason, 'cli', o.note);
      if (!r.ok) throw new CliError(r.error.detail);
      print(false, null, () => `${email} suppressed (${r.value.reason})`);
    }));
  sup.command('remove <email>').requiredOption('--tenant <tenant>').option('--why <reason>', 'required for complaints, hard bounces and spam traps')
    .action((email: string, o: { tenant: string; why?: string }) => withCore(cfg(), async (core) => {
      const r = await core.services.audience.suppression.remove((await tenantByRef(core, o.tenant)).id, email, 'cli', o.why);
      if (!r.ok) throw new CliError(r.error.detail);
      print(false, null, () => `${email} no longer suppressed`);
    }));

  program.command('audience').description('the mailable audience').command('count').requiredOption('--tenant <tenant>').requiredOption('--list <list...>')
    .option('--segment <filter>', 'e.g. \'fields.country = "FR" and last_open > 90 days ago\'').option('--json')
    .action((o: { tenant: string; list: string[]; segment?: string; json?: boolean }) => withCore(cfg(), async (core) => {
      const t = await tenantByRef(core, o.tenant);
      const ids: string[] = [];
      for (const ref of o.list) {
        const l = await core.services.audience.lists.find(t.id, ref);
        if (!l) throw new CliError(`no list ${ref}`);
        ids.push(l.id);
      }
      let segment;
      if (o.segment) {
        const r = core.services.audience.segment(t.id, o.segment);
        if (!r.ok) throw new CliError(r.error.detail);
        segment = r.value;
      }
      const n = await core.services.audience.mailable.sunset(t.id, ids, segment);
      print(o.json, n, () => `mailable ${n.mailable}; held back by the sunset policy ${n.sunset}; flagged (no engagement for a while) ${n.flagged}`);
    }));

  program.command('consent').description('proof of consent (MJ-6)').command('proof <email>').requiredOption('--tenant <tenant>').option('--list <list>').option('--json')
    .action((email: string, o: { tenant: string; list?: string; json?: boolean }) => withCore(cfg(), async (core) => {
      const p = await core.services.audience.proof((await tenantByRef(core, o.tenant)).id, email, o.list);
      if (!p) throw new CliError(`no contact ${email}`);
      print(o.json, p, () => [`Proof of consent for ${p.email} (generated ${p.generatedAt})`, ...p.lists.flatMap((l) => [
        '', `list ${l.list}: ${l.status}${l.quarantined ? ' (quarantined import)' : ''}`,
        ...(l.consent ? Object.entries(l.consent).map(([k, v]) => `  ${k.padEnd(26)} ${v ?? '—'}`) : ['  no consent record']),
      ])].join('\n'));
    }));
}
