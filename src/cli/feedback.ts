// `envoi feedback classify <file.eml…>`: what the inbound feedback parser
// makes of saved messages (a bounce, a complaint, an auto-reply…). Reads
// files only; no store is opened. An mbox file is read message by message.
import fs from 'node:fs/promises';
import type { Command } from 'commander';
import { CliError, print, table, tenantByRef, withCore } from './context.ts';
import { parseFeedback, splitMbox, type FeedbackKind } from '../feedback/parse/index.ts';

interface Line {
  file: string;
  kind: FeedbackKind;
  recipients: { address: string | null; hard: boolean | null; category: string; status: string | null; feedbackType: string | null }[];
}

async function classify(file: string): Promise<Line> {
  const raw = await fs.readFile(file);
  const results = await Promise.all(splitMbox(raw).map((m) => parseFeedback(m)));
  return {
    file,
    kind: results.find((r) => r.kind !== 'unknown')?.kind ?? 'unknown',
    recipients: results.flatMap((r) => r.recipients.map((x) => ({ address: x.address, hard: x.hard, category: x.category, status: x.status, feedbackType: x.feedbackType }))),
  };
}

const hardText = (h: boolean | null) => (h === true ? 'hard' : h === false ? 'soft' : '-');

export function feedbackCommands(program: Command): void {
  const fb = program.command('feedback').description('inbound feedback: bounces, complaints, auto-replies');
  fb.command('classify <files...>').description('classify saved messages (.eml or mbox), one result per file')
    .option('--json', 'one JSON line per file')
    .action(async (files: string[], o: { json?: boolean }) => {
      const rows: Record<string, unknown>[] = [];
      let failed = false;
      for (const file of files) {
        let line: Line;
        try {
          line = await classify(file);
        } catch (e) {
          failed = true;
          process.stderr.write(`envoi: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
          continue;
        }
        if (o.json) process.stdout.write(JSON.stringify(line) + '\n');
        else if (!line.recipients.length) rows.push({ file, kind: line.kind });
        else for (const r of line.recipients) rows.push({ file, kind: line.kind, address: r.address ?? '(none)', hard: hardText(r.hard), category: r.category, status: r.status, feedback: r.feedbackType });
      }
      if (!o.json && rows.length) process.stdout.write(table(rows, ['file', 'kind', 'address', 'hard', 'category', 'status', 'feedback']) + '\n');
      if (failed) process.exitCode = 1;
    });

  const cfg = () => program.opts().config as string | undefined;
  fb.command('list').description('what the inbound MX received: bounces, complaints, abuse@/postmaster@ reports, mailto unsubscribes')
    .option('--tenant <tenant>').option('--mailbox <mailbox>', 'bounce | unsubscribe | abuse | postmaster').option('--status <status>', 'processed | unmatched | unparsed | received')
    .option('--limit <n>', 'how many, newest first', '50').option('--json')
    .action((o: { tenant?: string; mailbox?: string; status?: string; limit: string; json?: boolean }) => withCore(cfg(), async (core) => {
      const tenantId = o.tenant ? (await tenantByRef(core, o.tenant)).id : null;
      const rows = await core.services.feedback.list(tenantId, { mailbox: o.mailbox, status: o.status, limit: Number(o.limit) || 50 });
      print(o.json, rows.map((r) => ({ ...r, summary: JSON.parse(r.summary) as unknown })), () => table(rows.map((r) => ({
        id: r.id, at: new Date(r.received_at).toISOString(), mailbox: r.mailbox, kind: r.kind ?? '', status: r.status, address: r.address ?? '', from: r.mail_from || '<>', subject: r.subject ?? '',
      })), ['id', 'at', 'mailbox', 'kind', 'status', 'address', 'from', 'subject']));
    }));
  fb.command('show <id>').description('one inbound message: what was parsed and done; --raw prints the message as received').option('--raw').option('--json')
    .action((id: string, o: { raw?: boolean; json?: boolean }) => withCore(cfg(), async (core) => {
      const r = await core.services.feedback.get(null, id);
      if (!r.ok) throw new CliError(r.error.detail);
      if (o.raw) {
        process.stdout.write(r.value.raw);
        return;
      }
      const { raw: _raw, ...row } = r.value;
      const summary = JSON.parse(row.summary) as { done?: string[] };
      print(o.json, { ...row, summary }, () => `id        ${row.id}\nmailbox   ${row.mailbox} (${row.rcpt_to})\nfrom      ${row.mail_from || '<>'} [${row.remote_address}]\nkind      ${row.kind ?? '?'}, ${row.status}\naddress   ${row.address ?? '-'}\ndone      ${(summary.done ?? []).join('; ') || '-'}`);
    }));
}
