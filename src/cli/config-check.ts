import { ConfigError } from '../core/errors.js';
import { loadConfig } from '../config/load-config.js';
import { printableConfig } from '../config/print-config.js';

/** `circuit-breaker config check`: validates the config and prints the effective one, secrets redacted. Exit 1 when invalid. */
export function configCheck(): number {
  try {
    const config = loadConfig();
    process.stdout.write(`${printableConfig(config)}\n`);
    process.stderr.write(
      `config ok: ${config.providers.length} provider(s)${config.file ? `, file ${config.file}` : ', no config file'}\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
