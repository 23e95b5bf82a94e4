import type { FastifyInstance } from 'fastify';
import type { AppContainer } from '../../app/container.js';
import { parseChatRequest } from '../schemas/parse-chat-request.js';

/**
 * Why requests go where they go: `GET /api/v1/providers/health` (circuits, error rates, latencies,
 * cooldowns, keys by fingerprint) and `POST /api/v1/route/explain` (a chat request's plan, nothing sent).
 */
export function registerRouting(app: FastifyInstance, container: AppContainer): void {
  app.get('/api/v1/providers/health', async () => {
    const kinds = new Map(container.catalog.adapters().map(({ name, adapter }) => [name, adapter.kind]));
    const now = container.clock.now();
    return {
      time: new Date(now).toISOString(),
      policy: container.config.health,
      providers: container.health.snapshot(kinds).map((provider) => ({
        ...provider,
        keys: provider.keys.map((key) => ({
          ...key,
          coolingUntil: key.coolingUntil > now ? new Date(key.coolingUntil).toISOString() : null,
        })),
        deployments: provider.deployments.map((deployment) => ({
          ...deployment,
          healthy:
            deployment.state === 'closed' &&
            deployment.errorRate < container.config.health.errorRateThreshold &&
            (deployment.latencyMs ?? 0) < container.config.health.latencyThresholdMs,
          openUntil: deployment.openUntil > now ? new Date(deployment.openUntil).toISOString() : null,
        })),
      })),
    };
  });

  app.post('/api/v1/route/explain', async (request) => {
    const { chat, route } = parseChatRequest(request.body);
    const plan = await container.chat.explain(chat, route);
    const now = container.clock.now();
    return {
      model: chat.model,
      strategy: plan.strategy,
      fallbacks: plan.fallbacks,
      estimate: plan.estimate,
      candidates: plan.candidates.map((candidate, position) => ({
        position: position + 1,
        provider: candidate.deployment.provider,
        model: candidate.deployment.model.id,
        upstream_model: candidate.deployment.upstreamModel,
        estimated_cost_usd: candidate.estimatedCostUsd ?? null,
        latency_ms: candidate.latencyMs ?? null,
        context_length: candidate.deployment.model.contextLength ?? null,
        circuit: container.health.circuit(candidate.deployment).state,
      })),
      rejected: plan.rejected.map((entry) => ({
        ...entry,
        availableAt: entry.availableAt !== undefined && entry.availableAt > now ? new Date(entry.availableAt).toISOString() : null,
      })),
      warnings: plan.warnings,
    };
  });
}
