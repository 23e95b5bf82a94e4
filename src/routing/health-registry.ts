import type { Clock } from '../core/clock.js';
import type { ProviderConfig } from '../config/gateway-config.js';
import type { Deployment } from './catalog.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { CircuitSnapshot } from './circuit-breaker.js';
import type { HealthPolicy } from './health-policy.js';
import { KeyPool } from './key-pool.js';
import type { KeyState } from './key-pool.js';
import { RateWindow } from './rate-window.js';

export interface ProviderHealth {
  name: string;
  kind: string;
  keys: KeyState[];
  rateLimits: { rpm?: number; tpm?: number };
  deployments: ({ model: string; upstreamModel: string } & CircuitSnapshot)[];
}

/** A deployment's circuit changed state (closed → open, open → half-open at its probe, half-open → closed or open). */
export interface CircuitChange {
  deployment: Deployment;
  from: CircuitSnapshot['state'];
  to: CircuitSnapshot['state'];
  snapshot: CircuitSnapshot;
}

/** The live health state the router reads and the executor writes: circuits per deployment, key pools and rate windows per provider. */
export class HealthRegistry {
  private readonly circuits = new Map<string, { deployment: Deployment; breaker: CircuitBreaker }>();
  /** The same breakers by deployment object: the request path asks two or three times per request, without building the key. */
  private readonly byDeployment = new WeakMap<Deployment, CircuitBreaker>();
  private readonly pools = new Map<string, KeyPool>();
  private readonly windows = new Map<string, RateWindow>();
  private readonly listeners = new Set<(change: CircuitChange) => void>();

  constructor(
    private readonly providers: readonly ProviderConfig[],
    readonly policy: HealthPolicy,
    readonly clock: Clock,
  ) {
    for (const provider of providers) {
      this.pools.set(provider.name, new KeyPool(provider.apiKeys, clock));
      this.windows.set(provider.name, new RateWindow(provider.rateLimits, clock));
    }
  }

  circuit(deployment: Deployment): CircuitBreaker {
    const known = this.byDeployment.get(deployment);
    if (known) return known;
    const key = `${deployment.provider}/${deployment.upstreamModel}`;
    let entry = this.circuits.get(key);
    if (!entry) {
      const breaker: CircuitBreaker = new CircuitBreaker(this.policy, this.clock, (from, to) => {
        const change = { deployment, from, to, snapshot: breaker.snapshot() };
        for (const listener of this.listeners) listener(change);
      });
      entry = { deployment, breaker };
      this.circuits.set(key, entry);
    }
    // A refreshed catalog makes new deployment objects for the same key: they find the same breaker.
    this.byDeployment.set(deployment, entry.breaker);
    return entry.breaker;
  }

  /** Calls `listener` on every circuit state change (for the `providerHealth` events); returns the way to stop. */
  onCircuitChange(listener: (change: CircuitChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  keys(provider: string): KeyPool {
    let pool = this.pools.get(provider);
    if (!pool) {
      pool = new KeyPool([], this.clock);
      this.pools.set(provider, pool);
    }
    return pool;
  }

  window(provider: string): RateWindow {
    let window = this.windows.get(provider);
    if (!window) {
      window = new RateWindow({}, this.clock);
      this.windows.set(provider, window);
    }
    return window;
  }

  snapshot(kinds: Map<string, string>): ProviderHealth[] {
    return this.providers.map((provider) => ({
      name: provider.name,
      kind: kinds.get(provider.name) ?? provider.kind,
      keys: this.keys(provider.name).snapshot(),
      rateLimits: provider.rateLimits,
      deployments: [...this.circuits.values()]
        .filter((entry) => entry.deployment.provider === provider.name)
        .map((entry) => ({ model: entry.deployment.model.id, upstreamModel: entry.deployment.upstreamModel, ...entry.breaker.snapshot() })),
    }));
  }
}
