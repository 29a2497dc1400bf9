// `envoi user …`: people who sign in to the dashboard. The first operator is
// made here (no one can sign in to make them); tenant users come from the
// API or the dashboard too. The password is read from standard input
// (--password-stdin) or asked twice on the terminal without echo, never
// taken as an argument, where it would land in the shell history.
import readline from 'node:readline';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { CliError, print, table, tenantByRef, withCore } from './context.ts';
import { createUsers } from '../web/users.ts';
import { passwordProblem } from '../web/passwords.ts';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  // one line: the trailing newline of `echo` or a file is not part of the password
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function ask(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({ write(chunk, _enc, cb) { if (!muted) process.stderr.write(chunk); cb(); } });
  const rl = readline.createInterface({ input: process.stdin, output, terminal: true });
  try {
    return await new Promise<string>((resolve) => {
      rl.question(question, (answer) => resolve(answer));
      muted = true;
    });
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

async function password(fromStdin: boolean | undefined): Promise<string> {
  if (fromStdin) return readStdin();
  if (!process.stdin.isTTY) throw new CliError('no terminal to ask the password on: pipe it with --password-stdin');
  const first = await ask('password: ');
  const problem = passwordProblem(first);
  if (problem) throw new CliError(problem);
  if ((await ask('again: ')) !== first) throw new CliError('the two passwords differ');
  return first;
}

export function userCommands(program: Command): void {
  const cfg = () => program.opts().config as string | undefined;
  const user = program.command('user').description('dashboard users: operators and tenant users');
  user.command('create').description('create a dashboard user (the password is asked, or read with --password-stdin)')
    .requiredOption('--email <address>')
    .option('--operator', 'an operator (sees every tenant)')
    .option('--tenant <tenant>', 'a user of this tenant (name or id)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--json', 'JSON output')
    .action((o: { email: string; operator?: boolean; tenant?: string; passwordStdin?: boolean; json?: boolean }) => {
      if (!o.operator === !o.tenant) throw new CliError('give either --operator or --tenant <tenant>');
      return password(o.passwordStdin).then((pw) => withCore(cfg(), async (core) => {
        const tenantId = o.tenant ? (await tenantByRef(core, o.tenant)).id : null;
        const r = await createUsers(core.store.db, core.clock).create({ email: o.email, password: pw, tenantId });
        if (!r.ok) throw new CliError(r.error.detail);
        print(o.json, r.value, () => `${r.value.role} user ${r.value.email} created (${r.value.id}); sign in at ${core.services.publicUrl()}/`);
      }));
    });
  user.command('list').option('--tenant <tenant>', 'the users of this tenant (default: the operators)').option('--json')
    .action((o: { tenant?: string; json?: boolean }) => withCore(cfg(), async (core) => {
      const rows = await createUsers(core.store.db, core.clock).list(o.tenant ? (await tenantByRef(core, o.tenant)).id : null);
      print(o.json, rows, () => table(rows as never, ['id', 'email', 'role', 'lastLoginAt']));
    }));
  user.command('remove <id>').option('--tenant <tenant>', 'the user\'s tenant (default: an operator)')
    .action((id: string, o: { tenant?: string }) => withCore(cfg(), async (core) => {
      const r = await createUsers(core.store.db, core.clock).remove(o.tenant ? (await tenantByRef(core, o.tenant)).id : null, id);
      if (!r.ok) throw new CliError(r.error.detail);
      print(false, null, () => `removed ${id}`);
    }));
}
