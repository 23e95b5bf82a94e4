import type { GatewayConfig } from '../config/gateway-config.js';
import type { Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { NatsWorkflowStore } from '../storage/nats/nats-workflow-store.js';
import type { WorkflowRepository } from '../storage/workflow-repository.js';
import { describeServer } from '../streaming/nats-event-bus.js';

/** The workflow store as the container holds it: the port, plus what readiness and shutdown need. */
export interface WorkflowStorage {
  readonly backend: 'nats' | 'sqlite' | 'postgres' | 'memory';
  readonly repository: WorkflowRepository;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Where workflow state lives when it is not the gateway store's: NATS JetStream with
 * `STORAGE_BACKEND=nats` (buckets and stream named by `CB_NATS_PREFIX`, default `cb`). Undefined for
 * sqlite and postgres, whose workflow tables come with the gateway store.
 */
export async function openWorkflowStorage(config: GatewayConfig, clock: Clock, logger: Logger): Promise<WorkflowStorage | undefined> {
  if (config.storage.backend !== 'nats') return undefined;
  const url = config.storage.natsUrl;
  if (!url) throw new ConfigError('STORAGE_BACKEND=nats needs NATS_URL=nats://host:4222.');
  try {
    const store = await NatsWorkflowStore.open(url, {
      clock,
      logger,
      ...(config.storage.natsPrefix ? { prefix: config.storage.natsPrefix } : {}),
    });
    return { backend: 'nats', repository: store, ping: () => store.ping(), close: () => store.close() };
  } catch (error) {
    throw new ConfigError(
      `Cannot open the workflow store on NATS JetStream at ${describeServer(url)}: ${error instanceof Error ? error.message : String(error)} (NATS_URL; the server must run with JetStream: nats-server -js)`,
    );
  }
}
