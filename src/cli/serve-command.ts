import { loadConfig } from '../config/load-config.js';
import { ConfigError } from '../core/errors.js';

/** `serve` as the CLI runs it: the configuration from the environment (and file), a clear message when it is invalid. */
export async function serveFromEnvironment(): Promise<void> {
  try {
    // Loaded on demand: the server's front doors (GraphQL among them) are not needed by the other commands.
    const { serve } = await import('./serve.js');
    await serve(loadConfig());
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`circuit-breaker: cannot start.\n${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
