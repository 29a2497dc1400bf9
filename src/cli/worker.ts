// `envoi worker`: the delivery workers and the campaign runner, nothing else
// (no listeners), against the configured database. On PostgreSQL any number
// of them share the queue; with redis.url set they share the connection
// caps, rates and warm-up budgets too. SIGTERM or SIGINT: the deliveries in
// flight finish, the rows claimed but not reached are handed back, then the
// process exits; a second signal ends it at once.
import type { Command } from 'commander';
import { config } from './context.ts';
import { openServices, startDelivery } from '../app.ts';

export function workerCommand(program: Command): void {
  program.command('worker')
    .description('run only the delivery workers and the campaign runner (no listeners); several may run at once on PostgreSQL')
    .action(async () => {
      const cfg = config(program.opts().config);
      const core = await openServices(cfg);
      const delivery = await startDelivery(core);
      const storage = cfg.database.url ? 'PostgreSQL' : `SQLite at ${cfg.dataDir}/envoi.db`;
      const limits = cfg.redis.url ? 'Redis' : 'in process';
      process.stdout.write(`envoi worker ${delivery.workerId} is up (storage: ${storage}; delivery: ${cfg.delivery.mode}; limits: ${limits})\n`);
      const stop = async (signal: string) => {
        core.logger.info({ signal }, 'stopping: finishing the deliveries in flight');
        try {
          await delivery.stop();
          await core.close();
        } finally {
          process.exit(0);
        }
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });
}
