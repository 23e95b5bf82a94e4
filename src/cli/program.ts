import { Command } from 'commander';
import { version } from '../app/version.js';
import { configCheck } from './config-check.js';
import { registerKeyCommands } from './keys.js';
import { serveFromEnvironment } from './serve-command.js';
import { registerWorkflowCommands } from './workflow.js';

/** The commander program: every command and its help (`circuit-breaker --help`). */
export async function runProgram(argv: string[]): Promise<void> {
  const program = new Command().name('circuit-breaker').description('Self-hosted AI gateway and workflow platform').version(version);

  program.command('serve').description('start the server (PORT, default 4000)').action(serveFromEnvironment);

  program
    .command('config')
    .description('configuration tools')
    .command('check')
    .description('validate the configuration and print it with secrets redacted')
    .action(async () => {
      process.exitCode = await configCheck();
    });

  registerKeyCommands(program);
  registerWorkflowCommands(program);

  await program.parseAsync(argv);
}
