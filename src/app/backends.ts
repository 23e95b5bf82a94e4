import { join } from 'node:path';
import { Keyring, MasterKey } from '../auth/secret-box.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import type { Store } from '../storage/store.js';
import type { EventBus } from '../streaming/event-bus.js';
import { MemoryEventBus } from '../streaming/memory-event-bus.js';

// Part of the composition root (with container.ts): the backends the config names. Apart from the
// container so the CLI's key and workflow commands open the store without loading the server's services.

/**
 * The gateway store the config names: SQLite under the data directory (default) or PostgreSQL at
 * `DATABASE_URL`. With `STORAGE_BACKEND=nats` only workflow state goes to NATS JetStream
 * (`withNatsWorkflows`); the usage ledger, keys and budgets stay relational: PostgreSQL when
 * `DATABASE_URL` is set, else SQLite.
 */
export async function openStore(config: GatewayConfig, options: { clock?: Clock; logger?: Logger } = {}): Promise<Store> {
  if (config.storage.backend === 'nats') {
    // Loaded only when configured: every CLI start would otherwise pay for the NATS client.
    const { withNatsWorkflows } = await import('./nats-workflow-storage.js');
    return withNatsWorkflows(await openRelationalStore(config, config.storage.databaseUrl ? 'postgres' : 'sqlite'), config, options);
  }
  return openRelationalStore(config, config.storage.backend);
}

async function openRelationalStore(config: GatewayConfig, backend: 'sqlite' | 'postgres'): Promise<Store> {
  switch (backend) {
    case 'sqlite':
      return SqliteStore.open(join(config.dataDir, 'circuit-breaker.db'));
    case 'postgres': {
      if (!config.storage.databaseUrl) throw new ConfigError('STORAGE_BACKEND=postgres needs DATABASE_URL=postgres://user@host:5432/db.');
      try {
        // Loaded on demand: the pg driver costs resident memory and start-up time a SQLite gateway does not need.
        const { PostgresStore } = await import('../storage/postgres/postgres-store.js');
        return await PostgresStore.open(config.storage.databaseUrl, config.storage.schema ? { schema: config.storage.schema } : {});
      } catch (error) {
        throw new ConfigError(
          `Cannot open the PostgreSQL database at ${redactUrl(config.storage.databaseUrl)}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }
}

/** The event bus the config names: in this process (default) or NATS at `NATS_URL` (`CB_EVENT_BUS`), on `{CB_NATS_PREFIX}.events.>`. */
export async function openEventBus(config: GatewayConfig, clock: Clock, logger: Logger): Promise<EventBus> {
  if (config.events.bus === 'memory') return new MemoryEventBus(clock, logger);
  if (!config.storage.natsUrl) throw new ConfigError('CB_EVENT_BUS=nats needs NATS_URL=nats://host:4222.');
  try {
    const { NatsEventBus } = await import('../streaming/nats-event-bus.js');
    return await NatsEventBus.connect(config.storage.natsUrl, {
      clock,
      logger,
      subjectPrefix: `${config.storage.natsPrefix ?? 'cb'}.events`,
    });
  } catch (error) {
    throw new ConfigError(`${error instanceof Error ? error.message : String(error)} (NATS_URL; or CB_EVENT_BUS=memory)`);
  }
}

/** A database URL without its password, for messages. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** The master keyring from `CB_MASTER_KEY` (+ `CB_MASTER_KEY_PREVIOUS`), or undefined when none is configured. */
export function keyringOf(config: GatewayConfig): Keyring | undefined {
  if (!config.access.masterKey) return undefined;
  const parse = (secret: { reveal(): string; source: string }): MasterKey => {
    const parsed = MasterKey.parse(secret.reveal());
    if ('error' in parsed) throw new ConfigError(`${secret.source}: ${parsed.error}`, [`${secret.source}: ${parsed.error}`]);
    return parsed;
  };
  return new Keyring(parse(config.access.masterKey), config.access.previousMasterKeys.map(parse));
}
