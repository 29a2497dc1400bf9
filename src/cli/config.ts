// `envoi config …`: check a configuration, generate its documentation.
import fs from 'node:fs';
import type { Command } from 'commander';
import { config } from './context.ts';
import { configurationMarkdown } from '../config/docs.ts';

export function configCommands(program: Command): void {
  const c = program.command('config').description('configuration');
  c.command('check').description('validate the configuration and print it').action(() => {
    const cfg = config(program.opts().config);
    // secrets are said to be set, never printed (the output ends up in tickets and chat)
    const smartHost = cfg.delivery.smartHost && { ...cfg.delivery.smartHost, password: cfg.delivery.smartHost.password ? '(set)' : undefined };
    const shown = { ...cfg, secretKey: cfg.secretKey ? '(set)' : undefined, delivery: { ...cfg.delivery, smartHost } };
    process.stdout.write(JSON.stringify(shown, null, 2) + '\n');
  });
  c.command('docs').description('write docs/configuration.md from the schema').option('--out <file>', 'output file (default: stdout)')
    .action((o: { out?: string }) => {
      const md = configurationMarkdown();
      if (o.out) fs.writeFileSync(o.out, md);
      else process.stdout.write(md);
    });
}
