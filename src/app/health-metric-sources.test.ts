import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config.js';
import type { Deployment } from '../routing/catalog.js';
import { HealthRegistry } from '../routing/health-registry.js';
import { healthMetricSources } from './health-metric-sources.js';

function setup() {
  const config = loadConfig({ OPENAI_API_KEY: 'sk-openai-test', ANTHROPIC_API_KEY: 'sk-ant-test' }, '/nonexistent-dir-for-tests');
  const time = { value: 1_000_000 };
  const health = new HealthRegistry(config.providers, config.health, { now: () => time.value });
  const deployment = (provider: string, model: string) =>
    ({ provider, upstreamModel: model, model: { id: model } }) as unknown as Deployment;
  return { health, deployment, time, sources: healthMetricSources(health) };
}

describe('healthMetricSources', () => {
  it('reports each used deployment with its circuit state', () => {
    const { health, deployment, sources } = setup();
    health.circuit(deployment('openai', 'gpt-4o')).success(100);
    const broken = health.circuit(deployment('anthropic', 'claude-3-5-sonnet-latest'));
    for (let index = 0; index < 3; index++) broken.failure('upstream_unavailable');
    expect(sources.circuits()).toEqual([
      { provider: 'openai', model: 'gpt-4o', state: 'closed' },
      { provider: 'anthropic', model: 'claude-3-5-sonnet-latest', state: 'open' },
    ]);
  });

  it('calls a provider unhealthy when all its circuits are open or all its keys cool down', () => {
    const { health, deployment, time, sources } = setup();
    expect(sources.providerHealth()).toEqual([
      { provider: 'openai', healthy: true },
      { provider: 'anthropic', healthy: true },
    ]);
    const broken = health.circuit(deployment('anthropic', 'claude-3-5-sonnet-latest'));
    for (let index = 0; index < 3; index++) broken.failure('upstream_unavailable');
    health.keys('openai').rateLimited(0, 60_000);
    expect(sources.providerHealth()).toEqual([
      { provider: 'openai', healthy: false },
      { provider: 'anthropic', healthy: false },
    ]);
    time.value += health.policy.openMs + 1; // anthropic half-open (a probe may go through); openai's key still cools
    expect(sources.providerHealth()).toEqual([
      { provider: 'openai', healthy: false },
      { provider: 'anthropic', healthy: true },
    ]);
  });
});
