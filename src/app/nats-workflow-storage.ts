import type { GatewayConfig } from '../config/gateway-config.js';
import type { Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { NatsWorkflowStore } from '../storage/nats/nats-workflow-store.js';
import type { Store } from '../storage/store.js';
import { describeServer } from '../streaming/nats-event-bus.js';

/**
 * `STORAGE_BACKEND=nats`: the gateway's relational records (usage ledger, keys, budgets, model cache,
 * agent and function definitions and executions, stored rules) stay in `relational` (SQLite or PostgreSQL), workflow state goes to NATS JetStream (buckets and stream
 * named by `CB_NATS_PREFIX`). The result is one `Store` whose `backend` is `nats`, whose `ping` checks
 * both, and whose `close` closes both. Closes `relational` when NATS cannot be opened.
 */
export async function withNatsWorkflows(
  relational: Store,
  config: GatewayConfig,
  options: { clock?: Clock; logger?: Logger } = {},
): Promise<Store> {
  const url = config.storage.natsUrl;
  let workflows: NatsWorkflowStore;
  try {
    if (!url) throw new ConfigError('STORAGE_BACKEND=nats needs NATS_URL=nats://host:4222.');
    workflows = await NatsWorkflowStore.open(url, {
      ...(config.storage.natsPrefix ? { prefix: config.storage.natsPrefix } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
  } catch (error) {
    await relational.close();
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(
      `Cannot open the workflow store on NATS JetStream at ${describeServer(url ?? '')}: ${error instanceof Error ? error.message : String(error)} (NATS_URL; the server must run with JetStream: nats-server -js)`,
    );
  }
  return {
    backend: 'nats',
    ping: async () => {
      await relational.ping();
      await workflows.ping().catch((error: unknown) => {
        throw new Error(`NATS JetStream: ${error instanceof Error ? error.message : String(error)}`);
      });
    },
    modelCache: relational.modelCache,
    gatewayKeys: relational.gatewayKeys,
    providerKeys: relational.providerKeys,
    usage: relational.usage,
    budgets: relational.budgets,
    agents: relational.agents,
    functions: relational.functions,
    rules: relational.rules,
    workflows,
    close: async () => {
      await workflows.close().catch(() => undefined);
      await relational.close();
    },
  };
}
