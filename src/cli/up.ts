// `envoi up`: everything in one process, on the embedded defaults unless configured.
import type { Command } from 'commander';
import { config } from './context.ts';
import { startApp } from '../app.ts';

export function upCommand(program: Command): void {
  program.command('up')
    .description('start envoi: HTTPS API, SMTP submission, inbound SMTP and delivery workers in one process')
    .action(async () => {
      const cfg = config(program.opts().config);
      const app = await startApp(cfg);
      const storage = cfg.database.url ? 'PostgreSQL' : `SQLite at ${cfg.dataDir}/envoi.db`;
      const lines = [
        `envoi is up (storage: ${storage}; delivery: ${cfg.delivery.mode})`,
        `  HTTPS API, public pages   ${app.httpUrl}   (certificate: ${cfg.tls.mode === 'self-signed' ? `${cfg.dataDir}/tls/cert.pem, self-signed` : cfg.tls.certFile})`,
        `  SMTP submission           ${cfg.submission.host}:${app.ports.submission}   (STARTTLS, then AUTH with a tenant API key id and secret)`,
        `  inbound SMTP (bounces)    ${cfg.inbound.host}:${app.ports.inbound}`,
      ];
      if (app.operatorKey) {
        lines.push('', 'First start: an operator key was created. It is shown this once and stored hashed:',
          `  ${app.operatorKey.token}`,
          `  use it as "Authorization: Bearer ${app.operatorKey.token}", e.g.`,
          `  curl -k -H "Authorization: Bearer ${app.operatorKey.token}" ${app.httpUrl}/v1/tenants`,
          'or, on this machine, the CLI: node bin/envoi.mjs tenant create <name>');
      }
      process.stdout.write(lines.join('\n') + '\n');
      const stop = async () => {
        await app.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
