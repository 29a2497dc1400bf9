// `envoi send`: a transactional message from the command line (queued for the
// running envoi's workers).
import type { Command } from 'commander';
import { CliError, print, tenantByRef, withCore } from './context.ts';

export function sendCommand(program: Command): void {
  program.command('send').description('queue a transactional message')
    .requiredOption('--tenant <tenant>').requiredOption('--from <address>').requiredOption('--to <address...>')
    .requiredOption('--subject <subject>').option('--text <text>').option('--html <html>').option('--stream <stream>', 'stream', 'transactional').option('--json')
    .action((o: { tenant: string; from: string; to: string[]; subject: string; text?: string; html?: string; stream: string; json?: boolean }) =>
      withCore(program.opts().config, async (core) => {
        const t = await tenantByRef(core, o.tenant);
        const r = await core.services.transactional.send(t.id, {
          from: { email: o.from }, to: o.to.map((email) => ({ email })), subject: o.subject, text: o.text, html: o.html, stream: o.stream,
        });
        if (!r.ok) throw new CliError(`${r.error.code}: ${r.error.detail}`);
        print(o.json, r.value, () => `queued ${r.value.id} <${r.value.messageId}> for ${r.value.recipients.map((x) => x.email).join(', ')}`);
      }));
}
