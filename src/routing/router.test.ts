import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config.js';
import type { AliasConfig, GatewayConfig } from '../config/gateway-config.js';
import type { ChatRequest } from '../core/chat.js';
import type { ProviderAdapter } from '../providers/spec/provider-adapter.js';
import { Catalog } from './catalog.js';
import { HealthRegistry } from './health-registry.js';
import { Router } from './router.js';
import { loadTokenizer } from './token-estimate.js';

const smartAlias: AliasConfig = { targets: ['anthropic/claude-3-5-sonnet-latest', 'openai/gpt-4o'], model: 'smart', maxLatencyMs: 2_000 };

/** `adjust` edits the compiled config (providers' models and rate limits, routing) before anything is built from it. */
function setup(adjust: (config: GatewayConfig) => void = () => {}, aliases: Record<string, AliasConfig> = { smart: smartAlias }) {
  const env = {
    OPENAI_API_KEY: 'sk-openai-test',
    ANTHROPIC_API_KEY: 'sk-ant-test',
    GOOGLE_API_KEY: 'g-key-test',
    AZURE_OPENAI_API_KEY: 'az-key-test',
    AZURE_OPENAI_ENDPOINT: 'https://x.openai.azure.com',
    AZURE_OPENAI_DEPLOYMENTS: 'gpt-4o=prod',
  };
  const config = loadConfig(env, '/nonexistent-dir-for-tests');
  adjust(config);
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
    aliases,
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
  const router = new Router(catalog, health, { ...config, aliases }, clock, random);
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

const provider = (config: GatewayConfig, name: string) => config.providers.find((entry) => entry.name === name)!;
const textOnly = { tools: false, vision: false, jsonSchema: false, streaming: true, embeddings: false };
const weatherTool = { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object' } } };

describe('Router: limits, capabilities, strategies and overrides', () => {
  it("respects a provider's rpm from config before it says 429, and lets it back after the minute", () => {
    const { router, health, catalog, time } = setup((config) => (provider(config, 'openai').rateLimits = { rpm: 1 }));
    const [openai] = catalog.resolve('openai/gpt-4o').deployments;
    expect(names(router.plan(ask('gpt-4o')))).toEqual(['openai/gpt-4o', 'azure_openai/gpt-4o']);
    health.window(openai!.provider).record(600);
    const limited = router.plan(ask('gpt-4o'));
    expect(names(limited)).toEqual(['azure_openai/gpt-4o']);
    expect(limited.rejected).toEqual([
      { provider: 'openai', model: 'gpt-4o', reason: 'provider rpm/tpm limit from config reached', availableAt: time.value + 60_000 },
    ]);
    time.value += 60_000;
    expect(names(router.plan(ask('gpt-4o')))[0]).toBe('openai/gpt-4o');
  });

  it("respects a provider's tpm from config, counting this request's expected tokens", () => {
    const { router, health } = setup((config) => (provider(config, 'openai').rateLimits = { tpm: 2_000 }));
    health.window('openai').record(1_000);
    expect(names(router.plan(ask('gpt-4o', { max_tokens: 500 })))[0]).toBe('openai/gpt-4o');
    expect(names(router.plan(ask('gpt-4o', { max_tokens: 1_200 })))).toEqual(['azure_openai/gpt-4o']);
  });

  it('a request with tools never goes to a model without tools', () => {
    const { router } = setup((config) => {
      provider(config, 'openai').models = [{ id: 'plain', capabilities: textOnly }, { id: 'gpt-4o' }];
    });
    const withTools = router.plan(ask('auto', { tools: [weatherTool] }));
    expect(names(withTools)).not.toContain('openai/plain');
    expect(withTools.candidates.every((candidate) => candidate.deployment.model.capabilities.tools)).toBe(true);
    expect(withTools.rejected).toContainEqual({ provider: 'openai', model: 'plain', reason: 'model does not support tools' });
    const legacy = router.plan(ask('openai/plain', { functions: [{ name: 'f' }] } as Partial<ChatRequest>), { models: ['openai/gpt-4o'] });
    expect(names(legacy)).toEqual(['openai/gpt-4o']);
    expect(names(router.plan(ask('auto')))).toContain('openai/plain');
  });

  it('takes the strategy from routing.strategy by default, and from a model alias over it', () => {
    const { router, health, catalog } = setup((config) => (config.routing.strategy = 'cost_optimized'), {
      fast: { targets: ['openai/gpt-4o', 'anthropic/claude-3-5-haiku-latest'], model: 'fast', strategy: 'performance_first' },
    });
    const cheap = router.plan(ask('auto'));
    expect(cheap.strategy).toBe('cost_optimized');
    const costs = cheap.candidates.map((candidate) => candidate.estimatedCostUsd ?? Number.POSITIVE_INFINITY);
    expect(costs).toEqual([...costs].sort((left, right) => left - right));
    health.circuit(catalog.resolve('openai/gpt-4o').deployments[0]!).success(900);
    health.circuit(catalog.resolve('anthropic/claude-3-5-haiku-latest').deployments[0]!).success(300);
    const fast = router.plan(ask('fast'));
    expect(fast.strategy).toBe('performance_first');
    expect(names(fast)).toEqual(['anthropic/claude-3-5-haiku-latest', 'openai/gpt-4o']);
    expect(router.plan(ask('fast'), { circuit_breaker: { routing_strategy: 'failover_chain' } }).strategy).toBe('failover_chain');
  });

  it('orders deployments whose EWMA latency is over the threshold (10 s) last, in failover and model-specific order', () => {
    const { router, health, catalog } = setup();
    const [openai, azure] = catalog.resolve('gpt-4o').deployments;
    health.circuit(openai!).success(12_000);
    expect(names(router.plan(ask('gpt-4o')))).toEqual(['azure_openai/gpt-4o', 'openai/gpt-4o']);
    health.circuit(azure!).success(15_000);
    expect(names(router.plan(ask('gpt-4o')))).toEqual(['openai/gpt-4o', 'azure_openai/gpt-4o']);
  });

  it('counts prompt tokens with the tokenizer where a characters/4 estimate would be wrong either way', () => {
    const { router } = setup((config) => {
      provider(config, 'openai').models = [
        { id: 'small', contextLength: 1_000 },
        { id: 'medium', contextLength: 1_500 },
      ];
    });
    // Digits and spaces: one token per character, four times what characters/4 says.
    const dense = '7 '.repeat(1_500);
    const densePlan = router.plan(ask('openai/small', { messages: [{ role: 'user', content: dense }] }));
    expect(densePlan.estimate.promptTokens).toBe(loadTokenizer()(dense) + 4);
    expect(Math.ceil(dense.length / 4)).toBeLessThan(1_000);
    expect(densePlan.candidates).toHaveLength(0);
    expect(densePlan.rejected[0]?.reason).toMatch(/prompt of ~3004 tokens exceeds the context of 1000/);
    // A long run of one letter: a tenth of what characters/4 says.
    const sparse = 'a'.repeat(8_000);
    const sparsePlan = router.plan(ask('openai/medium', { messages: [{ role: 'user', content: sparse }] }));
    expect(Math.ceil(sparse.length / 4)).toBeGreaterThan(1_500);
    expect(sparsePlan.estimate.promptTokens).toBeLessThan(1_500);
    expect(names(sparsePlan)).toEqual(['openai/medium']);
  });

  it('circuit_breaker.preferred_providers moves the named providers to the front, in their order', () => {
    const { router } = setup();
    expect(names(router.plan(ask('gpt-4o'), { circuit_breaker: { preferred_providers: ['azure_openai'] } }))).toEqual([
      'azure_openai/gpt-4o',
      'openai/gpt-4o',
    ]);
    const plan = router.plan(ask('openai/gpt-4o'), {
      models: ['anthropic/claude-3-5-haiku-latest', 'google/gemini-2.0-flash'],
      circuit_breaker: { preferred_providers: ['google', 'anthropic'] },
    });
    expect(names(plan)).toEqual(['google/gemini-2.0-flash', 'anthropic/claude-3-5-haiku-latest', 'openai/gpt-4o']);
  });

  it('circuit_breaker.task_type routes `auto` as the virtual model of that name; otherwise it changes nothing and says so', () => {
    const { router } = setup(() => {}, {
      code_generation: {
        targets: ['anthropic/claude-3-5-sonnet-latest', 'openai/gpt-4o'],
        model: 'code_generation',
        strategy: 'failover_chain',
      },
    });
    const coding = router.plan(ask('auto'), { circuit_breaker: { task_type: 'code_generation' } });
    expect(names(coding)).toEqual(['anthropic/claude-3-5-sonnet-latest', 'openai/gpt-4o']);
    expect(coding.strategy).toBe('failover_chain');
    expect(coding.warnings).toEqual([]);
    const named = router.plan(ask('gpt-4o'), { circuit_breaker: { task_type: 'code_generation' } });
    expect(names(named)).toEqual(['openai/gpt-4o', 'azure_openai/gpt-4o']);
    expect(named.warnings).toEqual([
      "circuit_breaker.task_type 'code_generation' applies to model 'auto'; the request named 'gpt-4o', which was routed as asked",
    ]);
    const unknown = router.plan(ask('auto'), { circuit_breaker: { task_type: 'summarization' } });
    expect(unknown.candidates.length).toBe(router.plan(ask('auto')).candidates.length);
    expect(unknown.warnings).toEqual([
      "circuit_breaker.task_type 'summarization' names no virtual model in the config (models: { summarization: { providers, strategy } }), so it did not change the routing",
    ]);
  });
});
