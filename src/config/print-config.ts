import type { GatewayConfig } from './gateway-config.js';

/**
 * The effective configuration as JSON for people (`circuit-breaker config check`): secrets show as
 * `[redacted from env:NAME]` (the `Secret` class serialises so), everything else as compiled.
 */
export function printableConfig(config: GatewayConfig): string {
  return JSON.stringify(config, null, 2);
}
