import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Catalog } from '../routing/catalog.js';
import type { Store } from '../storage/store.js';

const discoveryTimeoutMs = 5_000;
/** A model name the catalog does not know triggers a new discovery at most this often (start-up's run aside). */
const rediscoverIntervalMs = 10_000;

/**
 * Asks providers that list their models (Ollama's `/api/tags`, OpenAI-compatible `/models`) what they
 * serve: at start-up, and on demand when a request names a model the catalog does not know. What was
 * found is cached in the store, so a restart while the provider is down still knows its models.
 */
export class ModelDiscovery {
  private lastOnDemand = Number.NEGATIVE_INFINITY;
  private running: Promise<void> | undefined;

  constructor(
    private readonly catalog: Catalog,
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  /** True when some provider discovers models. */
  get enabled(): boolean {
    return this.catalog.adapters().some((entry) => entry.config.discover && entry.adapter.listModels);
  }

  run(): Promise<void> {
    this.running ??= this.discoverAll().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /**
   * On demand (a request named a model the catalog does not know): runs discovery again unless an
   * on-demand run happened in the last 10 s, or joins the one in progress; resolves true when the catalog
   * may have changed. The start-up run does not count, so a model pulled right after start is found.
   */
  async refreshIfStale(): Promise<boolean> {
    if (!this.enabled) return false;
    if (this.running) {
      await this.running;
      return true;
    }
    if (this.clock.now() - this.lastOnDemand < rediscoverIntervalMs) return false;
    this.lastOnDemand = this.clock.now();
    await this.run();
    return true;
  }

  private async discoverAll(): Promise<void> {
    await Promise.all(
      this.catalog.adapters().map(async ({ name, config, adapter }) => {
        if (!config.discover || !adapter.listModels) return;
        try {
          const apiKey = config.apiKeys[0]?.reveal() ?? '';
          const models = await adapter.listModels({ apiKey, signal: AbortSignal.timeout(discoveryTimeoutMs) });
          this.catalog.addDiscovered(name, models);
          await this.store.modelCache.save(name, models, this.clock.now());
          this.logger.info('models discovered', { provider: name, count: models.length });
        } catch (error) {
          const cached = await this.store.modelCache.load(name);
          if (cached) this.catalog.addDiscovered(name, cached.models);
          this.logger.warn('model discovery failed', {
            provider: name,
            reason: error instanceof Error ? error.message : String(error),
            usingCachedList: cached ? new Date(cached.at).toISOString() : false,
          });
        }
      }),
    );
  }
}
