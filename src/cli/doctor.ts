// `envoi doctor [domain]` and `envoi preflight <file | --campaign | --sandbox>`:
// the doctor's checks and the preflight, as a readable list or --json. Exit
// code 1 when a check fails (doctor) or a Gmail code is predicted (preflight),
// so both can gate a deploy script.
import fs from 'node:fs';
import type { Command } from 'commander';
import { CliError, print, tenantByRef, withCore } from './context.ts';
import { parseDomain } from '../compose/address.ts';
import type { Check, DomainReport, PreflightReport } from '../doctor/index.ts';
import type { Domain } from '../store/schema.ts';

const MARK = { pass: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;

export function doctorCommands(program: Command): void {
  const cfg = () => program.opts().config as string | undefined;
  program.command('doctor [domain]')
    .description('check sending domains\' SPF, DKIM, DMARC, MX, PTR, blocklists, abuse@, TLS and age, each with the exact fix; without a domain: every domain')
    .option('--tenant <tenant>', 'only this tenant\'s domains').option('--json')
    .action((name: string | undefined, o: { tenant?: string; json?: boolean }) => withCore(cfg(), async (core) => {
      const { domains, tenants, doctor } = core.services;
      let list: Domain[];
      if (name) {
        const parsed = parseDomain(name);
        if (!parsed.ok) throw new CliError(`${JSON.stringify(name)} is not a domain name`);
        const d = await domains.findByName(parsed.value);
        if (!d) throw new CliError(`no sending domain ${parsed.value}`);
        list = [d];
      } else {
        const owners = o.tenant ? [await tenantByRef(core, o.tenant)] : await tenants.list();
        list = (await Promise.all(owners.map((t) => domains.list(t.id)))).flat();
        if (!list.length) throw new CliError('no sending domain yet: envoi domain add <domain> --tenant <tenant>');
      }
      const reports: DomainReport[] = [];
      for (const d of list) reports.push(await doctor.check(d));
      print(o.json, name ? reports[0] : reports, () => reports.map(reportText).join('\n\n'));
      if (reports.some((r) => r.summary.fail > 0)) process.exitCode = 1;
    }));

  program.command('preflight [file]')
    .description('judge one message as Gmail would, from the IP it would leave from: SPF, DKIM, DMARC, alignment, PTR, TLS, RFC 5322, one-click unsubscribe, freemail From, content lint; names the Gmail codes it would get')
    .option('--campaign <id>', 'a campaign, composed for a sample recipient').option('--sandbox <id>', 'a message the sandbox captured')
    .option('--ip <ip>', 'the sending IP to judge from (default: doctor.sendingIps, the stream\'s pool, or the EHLO name\'s address)')
    .option('--kind <kind>', 'marketing (default) or transactional').option('--json')
    .action((file: string | undefined, o: { campaign?: string; sandbox?: string; ip?: string; kind?: string; json?: boolean }) => withCore(cfg(), async (core) => {
      const given = [file, o.campaign, o.sandbox].filter((v) => v !== undefined).length;
      if (given !== 1) throw new CliError('give exactly one of <file.eml>, --campaign <id>, --sandbox <id>');
      if (o.kind && o.kind !== 'marketing' && o.kind !== 'transactional') throw new CliError('--kind is marketing or transactional');
      let source;
      if (file) {
        try {
          source = { raw: fs.readFileSync(file) };
        } catch (e) {
          throw new CliError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
      } else source = o.campaign ? { campaign: o.campaign } : { sandbox: o.sandbox! };
      const r = await core.services.doctor.preflight(null, source, { ...(o.ip ? { ip: o.ip } : {}), ...(o.kind ? { kind: o.kind as 'marketing' | 'transactional' } : {}) });
      if (!r.ok) throw new CliError(r.error.detail);
      print(o.json, r.value, () => preflightText(r.value));
      if (r.value.verdict !== 'accepted') process.exitCode = 1;
    }));
}

function checkLines(checks: Check[]): string {
  return checks.map((c) => {
    const head = `${MARK[c.status]}  ${c.id.padEnd(18)} ${c.subject}${c.requirements.length ? `  [${c.requirements.join(', ')}]` : ''}`;
    const lines = [head, `        ${c.found}`];
    if (c.fix && c.status !== 'pass') lines.push(`        fix: ${c.fix}`);
    return lines.join('\n');
  }).join('\n');
}

export function reportText(r: DomainReport): string {
  const head = `${r.domain}: ${r.summary.pass} pass, ${r.summary.warn} warn, ${r.summary.fail} fail${r.blocked ? ' — BLOCKED: no marketing outside the sandbox until the blocking failures are fixed' : ''}`;
  return `${head}\n${checkLines(r.checks)}`;
}

export function preflightText(r: PreflightReport): string {
  const c = r.context;
  const lines = [
    `${c.source} (${c.kind}) from ${c.from}, MAIL FROM ${c.envelopeFrom}, IP ${c.ip ?? 'unknown'}, EHLO ${c.helo}${c.signedByPreflight ? '; signed with the domain\'s keys as envoi would' : ''}`,
    '',
    r.gmail.length
      ? `Gmail would answer with a temporary failure:\n${r.gmail.map((g) => `  ${g.code}  ${g.reason}\n         ${g.remedy}`).join('\n')}`
      : 'Gmail would accept it (no 4.7.23, 4.7.27, 4.7.29, 4.7.30, 4.7.31 or 4.7.32).',
    '',
    checkLines(r.checks),
  ];
  if (r.lint.length) lines.push('', 'content:', ...r.lint.map((f) => `  ${f.severity.padEnd(6)} ${f.id}: ${f.message}`));
  return lines.join('\n');
}
