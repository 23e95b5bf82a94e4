#!/usr/bin/env node
/**
 * Boot. `serve` alone, the server's start, goes straight to it; every other command line goes through the
 * commander program (src/cli/program.ts), which the server's start-up then neither loads nor compiles.
 */
const [command, ...rest] = process.argv.slice(2);
if (command === 'serve' && rest.length === 0) {
  const { serveFromEnvironment } = await import('./cli/serve-command.js');
  await serveFromEnvironment();
} else {
  const { runProgram } = await import('./cli/program.js');
  await runProgram(process.argv);
}
