import { join } from 'node:path';
import type { GatewayConfig } from '../config/gateway-config.js';
import { systemClock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { createRedactor } from '../core/redact.js';
import type { Redact } from '../core/redact.js';
import { createAdapter } from '../providers/registry.js';
import { Catalog } from '../routing/catalog.js';
import { HealthRegistry } from '../routing/health-registry.js';
import { Router } from '../routing/router.js';
import { loadTokenizer } from '../routing/token-estimate.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import type { Store } from '../storage/store.js';
import { ChatService } from './chat-service.js';
import { createJsonLogger } from './json-logger.js';
import { ModelDiscovery } from './model-discovery.js';

export const version = '0.1.0';

export interface Readiness {
  ready: boolean;
  store: { backend: string; ok: boolean; error?: string };
  providers: { name: string; kind: string; models: number }[];
  discovery: 'done' | 'pending' | 'not_needed';
}

/**
 * The composition root: the one module (with the provider registry) that knows concrete
 * implementations. It builds the store, the adapters, the catalog and the services from the config,
 * and hands the front doors what they need.
 */
export class AppContainer {
  readonly version = version;
  readonly catalog: Catalog;
  readonly chat: ChatService;
  readonly discovery: ModelDiscovery;
  readonly health: HealthRegistry;
  readonly router: Router;
  /** Masks every configured secret in text that leaves the process (errors, logs). */
  readonly redact: Redact;
  private discoveryState: Readiness['discovery'];

  private constructor(
    readonly config: GatewayConfig,
    readonly store: Store,
    readonly logger: Logger,
    readonly clock: Clock,
    redact: Redact,
  ) {
    this.redact = redact;
    const providers = config.providers.map((provider) => ({ config: provider, adapter: createAdapter(provider) }));
    this.catalog = new Catalog(providers, config.aliases);
    this.discovery = new ModelDiscovery(this.catalog, store, logger, clock);
    this.health = new HealthRegistry(config.providers, config.health, clock);
    this.router = new Router(this.catalog, this.health, config, clock);
    this.chat = new ChatService(this.catalog, this.router, this.health, config.routing, clock, () => this.discovery.refreshIfStale());
    this.discoveryState = this.discovery.enabled ? 'pending' : 'not_needed';
    // Ranking by cost counts every prompt: load the tokenizer now rather than on the first request.
    if (
      config.routing.strategy === 'cost_optimized' ||
      Object.values(config.aliases).some((alias) => alias.strategy === 'cost_optimized' || alias.maxCostPer1kTokens !== undefined)
    ) {
      loadTokenizer();
    }
  }

  static async create(config: GatewayConfig, options: { logger?: Logger; clock?: Clock; store?: Store } = {}): Promise<AppContainer> {
    const redact = createRedactor(configuredSecrets(config));
    const logger = options.logger ?? createJsonLogger(config.logLevel, redact);
    const store = options.store ?? openStore(config);
    const container = new AppContainer(config, store, logger, options.clock ?? systemClock, redact);
    if (container.discovery.enabled) {
      await container.discovery.run();
      container.discoveryState = 'done';
    }
    return container;
  }

  async readiness(): Promise<Readiness> {
    let storeState: Readiness['store'] = { backend: this.store.backend, ok: true };
    try {
      await this.store.ping();
    } catch (error) {
      storeState = { backend: this.store.backend, ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    const counts = new Map<string, number>();
    for (const deployment of this.catalog.all()) counts.set(deployment.provider, (counts.get(deployment.provider) ?? 0) + 1);
    return {
      ready: storeState.ok && this.discoveryState !== 'pending',
      store: storeState,
      providers: this.catalog.adapters().map(({ name, adapter }) => ({ name, kind: adapter.kind, models: counts.get(name) ?? 0 })),
      discovery: this.discoveryState,
    };
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.catalog.adapters().map(({ adapter }) => adapter.close()));
    await this.store.close();
  }
}

function openStore(config: GatewayConfig): Store {
  if (config.storage.backend !== 'sqlite') {
    throw new ConfigError(`Storage backend '${config.storage.backend}' is not available yet; use STORAGE_BACKEND=sqlite (the default).`);
  }
  return new SqliteStore(join(config.dataDir, 'circuit-breaker.db'));
}

function configuredSecrets(config: GatewayConfig): string[] {
  const secrets = config.providers.flatMap((provider) => provider.apiKeys.map((key) => key.reveal()));
  if (config.access.adminKey) secrets.push(config.access.adminKey.reveal());
  if (config.access.masterKey) secrets.push(config.access.masterKey.reveal());
  return secrets;
}
