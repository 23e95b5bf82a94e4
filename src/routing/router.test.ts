import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config.js';
import type { ChatRequest } from '../core/chat.js';
import type { ProviderAdapter } from '../providers/spec/provider-adapter.js';
import { Catalog } from './catalog.js';
import { HealthRegistry } from './health-registry.js';
import { Router } from './router.js';

function setup(yaml: Record<string, unknown> = {}) {
  const env = {
    OPENAI_API_KEY: 'sk-openai-test',
    ANTHROPIC_API_KEY: 'sk-ant-test',
    GOOGLE_API_KEY: 'g-key-test',
    AZURE_OPENAI_API_KEY: 'az-key-test',
    AZURE_OPENAI_ENDPOINT: 'https://x.openai.azure.com',
    AZURE_OPENAI_DEPLOYMENTS: 'gpt-4o=prod',
  };
  const config = loadConfig(env, '/nonexistent-dir-for-tests');
  Object.assign(config, yaml);
  const time = { value: 1_000_000 };
  const clock = { now: () => time.value };
  const catalog = new Catalog(
    config.providers.map((provider) => ({
      config: provider,
      adapter: {
        name: provider.name,
        kind: provider.kind,
        // like the real Anthropic adapter: it drops `seed`
        ...(provider.kind === 'anthropic'
          ? { check: (request: ChatRequest) => (request.seed != null ? ['seed is not supported by Anthropic and was dropped'] : []) }
          : {}),
      } as unknown as ProviderAdapter,
    })),
    {
      smart: { targets: ['anthropic/claude-3-5-sonnet-latest', 'openai/gpt-4o'], model: 'smart', maxLatencyMs: 2_000 },
    },
  );
  const health = new HealthRegistry(config.providers, config.health, clock);
  let seed = 42;
  const random = (): number => {
    // mulberry32: a small deterministic generator, so the load_balanced test is repeatable
    seed = (seed + 0x6d2b79f5) | 0;
    let value = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
  const router = new Router(
    catalog,
    health,
    {
      ...config,
      aliases: { smart: { targets: ['anthropic/claude-3-5-sonnet-latest', 'openai/gpt-4o'], model: 'smart', maxLatencyMs: 2_000 } },
    },
    clock,
    random,
  );
  return { router, health, catalog, time };
}

const ask = (model: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model,
  messages: [{ role: 'user', content: 'Hello there' }],
  ...extra,
});
const names = (plan: ReturnType<Router['plan']>) =>
  plan.candidates.map((candidate) => `${candidate.deployment.provider}/${candidate.deployment.model.id}`);

describe('Router', () => {
  it('failover_chain keeps config order; cost_optimized puts the cheapest first; :floor and :nitro pick strategies', () => {
    const { router } = setup();
    expect(names(router.plan(ask('gpt-4o')))).toEqual(['openai/gpt-4o', 'azure_openai/gpt-4o']);
    const cheap = router.plan(ask('auto'), { circuit_breaker: { routing_strategy: 'cost_optimized' } });
    expect(cheap.strategy).toBe('cost_optimized');
    expect(names(cheap)[0]).toBe('google/gemini-2.0-flash-lite');
    expect(router.plan(ask('gpt-4o:floor')).strategy).toBe('cost_optimized');
    expect(router.plan(ask('gpt-4o:nitro')).strategy).toBe('performance_first');
  });

  it('performance_first orders by measured latency', () => {
    const { router, health, catalog } = setup();
    const [openai, azure] = catalog.resolve('gpt-4o').deployments;
    health.circuit(openai!).success(900);
    health.circuit(azure!).success(200);
    expect(names(router.plan(ask('gpt-4o'), { provider: { sort: 'latency' } }))).toEqual(['azure_openai/gpt-4o', 'openai/gpt-4o']);
  });

  it('OpenRouter models/provider overrides: fallback list, only/ignore, order, allow_fallbacks, max_price', () => {
    const { router } = setup();
    expect(names(router.plan(ask('openai/gpt-4o'), { models: ['anthropic/claude-3-5-haiku-latest'] }))).toEqual([
      'openai/gpt-4o',
      'anthropic/claude-3-5-haiku-latest',
    ]);
    expect(names(router.plan(ask('gpt-4o'), { provider: { only: ['azure_openai'] } }))).toEqual(['azure_openai/gpt-4o']);
    expect(names(router.plan(ask('gpt-4o'), { provider: { ignore: ['openai'] } }))).toEqual(['azure_openai/gpt-4o']);
    expect(names(router.plan(ask('gpt-4o'), { provider: { order: ['azure_openai'] } }))).toEqual(['azure_openai/gpt-4o', 'openai/gpt-4o']);
    expect(names(router.plan(ask('gpt-4o'), { provider: { allow_fallbacks: false } }))).toEqual(['openai/gpt-4o']);
    const capped = router.plan(ask('openai/gpt-4o', {}), { models: ['openai/gpt-4o-mini'], provider: { max_price: { prompt: 1 } } });
    expect(names(capped)).toEqual(['openai/gpt-4o-mini']);
    expect(capped.rejected[0]?.reason).toMatch(/max_price/);
  });

  it('provider.require_parameters leaves out providers that would drop a parameter', () => {
    const { router } = setup();
    const request = ask('anthropic/claude-3-5-sonnet-latest', { seed: 7 });
    const plan = router.plan(request, { models: ['openai/gpt-4o'], provider: { require_parameters: true } });
    expect(names(plan)).toEqual(['openai/gpt-4o']);
    expect(plan.rejected[0]?.reason).toMatch(/require_parameters: it would drop seed/);
    expect(names(router.plan(request, { models: ['openai/gpt-4o'] }))).toEqual(['anthropic/claude-3-5-sonnet-latest', 'openai/gpt-4o']);
  });

  it('filters by capability and by context length measured with the tokenizer', () => {
    const { router } = setup();
    const long = 'word '.repeat(20_000);
    const plan = router.plan(ask('auto', { messages: [{ role: 'user', content: long }] }), {
      circuit_breaker: { routing_strategy: 'cost_optimized' },
    });
    expect(plan.estimate.promptTokens).toBeGreaterThan(19_000);
    expect(plan.rejected.find((entry) => entry.model === 'gpt-3.5-turbo')?.reason).toMatch(/exceeds the context of 16385/);
    expect(names(plan)).not.toContain('openai/gpt-3.5-turbo');
    const json = router.plan(ask('gpt-3.5-turbo', { response_format: { type: 'json_schema', json_schema: { name: 'x' } } }));
    expect(json.candidates).toHaveLength(0);
    expect(json.rejected[0]?.reason).toMatch(/json_schema/);
  });

  it('leaves out open circuits and cooling keys, saying when they come back', () => {
    const { router, health, catalog, time } = setup();
    const [openai] = catalog.resolve('gpt-4o').deployments;
    for (let index = 0; index < 3; index++) health.circuit(openai!).failure('upstream_error 500');
    health.keys('azure_openai').rateLimited(0, 5_000);
    const plan = router.plan(ask('gpt-4o'));
    expect(plan.candidates).toHaveLength(0);
    expect(plan.rejected.map((entry) => [entry.provider, entry.availableAt! - time.value])).toEqual([
      ['openai', 30_000],
      ['azure_openai', 5_000],
    ]);
  });

  it('aliases use model_specific with their performance target; the seed circuit_breaker extension caps cost', () => {
    const { router, health, catalog } = setup();
    const plan = router.plan(ask('smart'));
    expect(plan.strategy).toBe('model_specific');
    expect(names(plan)).toEqual(['anthropic/claude-3-5-sonnet-latest', 'openai/gpt-4o']);
    health.circuit(catalog.resolve('anthropic/claude-3-5-sonnet-latest').deployments[0]!).success(5_000);
    expect(names(router.plan(ask('smart')))).toEqual(['openai/gpt-4o']);
    const capped = router.plan(ask('openai/gpt-4o'), {
      circuit_breaker: { max_cost_per_1k_tokens: 0.001, fallback_models: ['openai/gpt-4o-mini'] },
    });
    expect(names(capped)).toEqual(['openai/gpt-4o-mini']);
  });

  it('load_balanced spreads by weight', () => {
    const { router } = setup();
    const firsts = new Map<string, number>();
    for (let index = 0; index < 400; index++) {
      const first = names(router.plan(ask('gpt-4o'), { circuit_breaker: { routing_strategy: 'load_balanced' } }))[0] ?? '';
      firsts.set(first, (firsts.get(first) ?? 0) + 1);
    }
    expect(firsts.get('openai/gpt-4o')).toBeGreaterThan(120);
    expect(firsts.get('azure_openai/gpt-4o')).toBeGreaterThan(120);
  });
});
