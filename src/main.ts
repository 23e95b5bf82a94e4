#!/usr/bin/env node
import { Command } from 'commander';
import { version } from './app/version.js';
import { configCheck } from './cli/config-check.js';
import { registerKeyCommands } from './cli/keys.js';
import { registerWorkflowCommands } from './cli/workflow.js';
import { loadConfig } from './config/load-config.js';
import { ConfigError } from './core/errors.js';

const program = new Command().name('circuit-breaker').description('Self-hosted AI gateway and workflow platform').version(version);

program
  .command('serve')
  .description('start the server (PORT, default 4000)')
  .action(async () => {
    try {
      // Loaded on demand: the server's front doors (GraphQL among them) are not needed by the other commands.
      const { serve } = await import('./cli/serve.js');
      await serve(loadConfig());
    } catch (error) {
      if (error instanceof ConfigError) {
        process.stderr.write(`circuit-breaker: cannot start.\n${error.message}\n`);
        process.exit(1);
      }
      throw error;
    }
  });

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

await program.parseAsync(process.argv);
