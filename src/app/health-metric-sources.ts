import type { HealthRegistry } from '../routing/health-registry.js';
import type { ScrapeSources } from '../usage/scrape-sources.js';

/**
 * The scrape-time sources `HealthRegistry` can answer, for `GatewayMetrics.setSources`:
 *
 * - `circuits`: every deployment that has carried traffic, with its circuit state (`cb_circuit_state`).
 * - `providerHealth` (`cb_provider_healthy`): a provider is healthy when it can take a request now, that
 *   is, at least one of its keys is not cooling down (or it needs none) and not every deployment it
 *   has served is open. A provider with no traffic yet counts as healthy.
 *
 * Read at scrape time only: a snapshot walks every circuit and key.
 *
 * @example
 * metrics.setSources(healthMetricSources(container.health));
 */
export function healthMetricSources(health: HealthRegistry): Pick<ScrapeSources, 'circuits' | 'providerHealth'> {
  const snapshot = () => health.snapshot(new Map());
  return {
    circuits: () =>
      snapshot().flatMap((provider) =>
        provider.deployments.map((deployment) => ({ provider: provider.name, model: deployment.model, state: deployment.state })),
      ),
    providerHealth: () => {
      const now = health.clock.now();
      return snapshot().map((provider) => {
        const keyReady = provider.keys.length === 0 || provider.keys.some((key) => key.coolingUntil <= now);
        const circuitReady = provider.deployments.length === 0 || provider.deployments.some((deployment) => deployment.state !== 'open');
        return { provider: provider.name, healthy: keyReady && circuitReady };
      });
    },
  };
}
