import type { GatewayConfig } from './gateway-config.js';

/**
 * The effective configuration as JSON for people (`circuit-breaker config check`): secrets show as
 * `[redacted from env:NAME]` (the `Secret` class serialises so), passwords in the database and NATS URLs
 * as `***`, everything else as compiled.
 */
export function printableConfig(config: GatewayConfig): string {
  const storage = { ...config.storage };
  if (storage.databaseUrl) storage.databaseUrl = withoutPassword(storage.databaseUrl);
  if (storage.natsUrl) storage.natsUrl = withoutPassword(storage.natsUrl);
  return JSON.stringify({ ...config, storage }, null, 2);
}

/** A URL with its password (or token, when it is the only credential) replaced by `***`. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    else if (parsed.username && parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') parsed.username = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
