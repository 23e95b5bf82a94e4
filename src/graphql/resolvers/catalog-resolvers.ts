import type { AppContainer } from '../../app/container.js';
import { listModels } from '../../app/model-listing.js';
import type { ProviderHealth } from '../../routing/health-registry.js';
import { paginate } from '../pagination.js';
import type { GraphQLContext } from '../graphql-context.js';

type Page = { first?: number | null; after?: string | null };

/** `models`: the `/v1/models` list (bare ids and aliases), optionally only those a provider serves. */
export function models(args: Page & { provider?: string | null }, context: GraphQLContext) {
  const entries = listModels(context.container.catalog).filter((entry) => !args.provider || entry.providers.includes(args.provider));
  return paginate(
    entries.map((entry) => ({
      id: entry.id,
      providers: entry.providers,
      contextLength: entry.context_length,
      maxOutputTokens: entry.max_output_tokens,
      pricing: { input: entry.pricing.input, output: entry.pricing.output, cachedInput: entry.pricing.cached_input },
      capabilities: { ...entry.capabilities, jsonSchema: entry.capabilities.json_schema },
    })),
    args,
  );
}

/** `providers`: what `GET /api/v1/providers/health` shows, per provider, with circuit states as enum values. */
export function providers(args: Page, context: GraphQLContext) {
  return paginate(providerHealth(context.container), args);
}

function providerHealth(container: AppContainer) {
  const kinds = new Map(container.catalog.adapters().map(({ name, adapter }) => [name, adapter.kind]));
  const counts = new Map<string, number>();
  for (const deployment of container.catalog.all()) counts.set(deployment.provider, (counts.get(deployment.provider) ?? 0) + 1);
  const now = container.clock.now();
  const policy = container.config.health;
  return container.health.snapshot(kinds).map((provider: ProviderHealth) => {
    const deployments = provider.deployments.map((deployment) => ({
      ...deployment,
      state: deployment.state.toUpperCase(),
      healthy:
        deployment.state === 'closed' &&
        deployment.errorRate < policy.errorRateThreshold &&
        (deployment.latencyMs ?? 0) < policy.latencyThresholdMs,
      openUntil: deployment.openUntil > now ? new Date(deployment.openUntil).toISOString() : null,
      latencyMs: deployment.latencyMs ?? null,
      ttftMs: deployment.ttftMs ?? null,
      lastError: deployment.lastError ?? null,
    }));
    return {
      name: provider.name,
      kind: provider.kind,
      healthy:
        deployments.every((deployment) => deployment.healthy) &&
        (provider.keys.length === 0 || provider.keys.some((key) => key.coolingUntil <= now)),
      models: counts.get(provider.name) ?? 0,
      keys: provider.keys.map((key) => ({
        ...key,
        coolingUntil: key.coolingUntil > now ? new Date(key.coolingUntil).toISOString() : null,
      })),
      deployments,
    };
  });
}
