import { ConfigError } from '../core/errors.js';
import { loadConfig } from '../config/load-config.js';
import { printableConfig } from '../config/print-config.js';
import { loadCostRules } from '../usage/load-cost-rules.js';

/** `circuit-breaker config check`: validates the config and prints the effective one, secrets redacted. Exit 1 when invalid. */
export async function configCheck(): Promise<number> {
  try {
    const config = loadConfig();
    const rules = await loadCostRules(config.usage.costRules);
    if ('issues' in rules) throw new ConfigError(`The cost rules are invalid:\n- ${rules.issues.join('\n- ')}`, rules.issues);
    for (const warning of rules.warnings) process.stderr.write(`warning: ${warning}\n`);
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
