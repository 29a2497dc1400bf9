// The `envoi` command. Each subcommand calls the stages' functions; none holds
// a business rule. Errors print one clear line and set the exit code; a
// stack trace means a bug.
import { Command } from 'commander';
import { CliError } from './context.ts';
import { upCommand } from './up.ts';
import { workerCommand } from './worker.ts';
import { warmupCommands } from './warmup.ts';
import { tenantCommands } from './tenants.ts';
import { domainCommands } from './domains.ts';
import { doctorCommands } from './doctor.ts';
import { sandboxCommands } from './sandbox.ts';
import { sendCommand } from './send.ts';
import { configCommands } from './config.ts';
import { feedbackCommands } from './feedback.ts';
import { audienceCommands } from './audience.ts';
import { campaignCommands } from './campaigns.ts';
import { importCommands } from './imports.ts';
import { reputationCommands } from './reputation.ts';
import { userCommands } from './users.ts';

export function buildProgram(): Command {
  const program = new Command('envoi')
    .description('self-hosted email sending, inside the providers\' sending policies by construction')
    .option('-c, --config <file>', 'JSON configuration file (or ENVOI_CONFIG)')
    .showHelpAfterError();
  upCommand(program);
  workerCommand(program);
  tenantCommands(program);
  domainCommands(program);
  doctorCommands(program);
  warmupCommands(program);
  sendCommand(program);
  sandboxCommands(program);
  audienceCommands(program);
  campaignCommands(program);
  importCommands(program);
  // after tenantCommands: it adds review, suspend and resume to `envoi tenant`
  reputationCommands(program);
  feedbackCommands(program);
  userCommands(program);
  configCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`envoi: ${e.message}\n`);
      process.exitCode = e.exitCode;
      return;
    }
    throw e;
  }
}
