import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compileUsage, parseCostAction } from '../config/compile-usage.js';
import { configFileSchema } from '../config/config-schema.js';
import type { UsageConfig } from '../config/gateway-config.js';
import type { CostFacts, CostRuleEngine } from './cost-rule-types.js';
import { compileCostRules, costRuleVariables } from './cost-rules.js';

/** The seed's "Smart Cost Optimization" block, as a config file writes it (`rules:` is `cost_rules:` here). */
const seedYaml = `
cost_rules:
  - name: "Use cheaper model for simple tasks"
    condition: "token_count < 500 AND complexity = 'low'"
    action: "route_to_model('gpt-3.5-turbo')"

  - name: "Batch small requests"
    condition: "request_size < 100_tokens"
    action: "batch_with_delay(5_seconds, max_batch_size=10)"

  - name: "Use local models for development"
    condition: "environment = 'development'"
    action: "prefer_provider('ollama')"

  - name: "Rate limit expensive models"
    condition: "model = 'gpt-4' AND cost_today > $100"
    action: "apply_rate_limit(10_requests_per_minute)"

budgets:
  daily_limit: $200
  model_limits:
    gpt-4: $150
    claude-3-opus: $100
  alerts:
    - threshold: 80%
      action: "send_notification"
    - threshold: 95%
      action: "switch_to_cheaper_models"
    - threshold: 100%
      action: "pause_expensive_operations"
`;

function compileFile(yaml: string, env: Record<string, string | undefined> = {}) {
  const issues: string[] = [];
  const usage = compileUsage(configFileSchema.parse(parse(yaml)), env, 'circuit-breaker.yaml', issues);
  return { usage, issues };
}

function engineOf(rules: UsageConfig['costRules']): { engine: CostRuleEngine; warnings: string[] } {
  const result = compileCostRules(rules);
  if ('issues' in result) throw new Error(result.issues.join('\n'));
  return result;
}

function facts(overrides: Partial<CostFacts> = {}): CostFacts {
  return {
    token_count: 1_000,
    request_size: 1_000,
    model: 'gpt-4o',
    max_tokens: 256,
    stream: false,
    environment: 'production',
    cost_today: 0,
    key_cost_today: 0,
    model_cost_today: 0,
    user: '',
    team: '',
    project: '',
    key: '',
    tags: [],
    task_type: '',
    complexity: '',
    metadata: {},
    ...overrides,
  };
}

const seedNames = [
  'Use cheaper model for simple tasks',
  'Batch small requests',
  'Use local models for development',
  'Rate limit expensive models',
];

describe("the seed's cost rules", () => {
  const { usage, issues } = compileFile(seedYaml);
  const { engine, warnings } = engineOf(usage.costRules);

  it('compile without issues, each legacy condition translated with a warning naming its rule', () => {
    expect(issues).toEqual([]);
    expect(usage.costRules.map((rule) => rule.name)).toEqual(seedNames);
    expect(engine.size).toBe(4);
    expect(warnings).toHaveLength(4);
    seedNames.forEach((name, index) => expect(warnings[index]).toContain(`cost_rules.${index} ('${name}')`));
    expect(warnings[3]).toContain("model == 'gpt-4' && cost_today > 100");
  });

  it('parse the four actions', () => {
    expect(usage.costRules.map((rule) => rule.action)).toEqual([
      { type: 'route_to_model', model: 'gpt-3.5-turbo' },
      { type: 'batch_with_delay', delayMs: 5_000, maxBatchSize: 10 },
      { type: 'prefer_provider', provider: 'ollama' },
      { type: 'apply_rate_limit', rpm: 10 },
    ]);
  });

  it('match nothing for an ordinary production request', () => {
    expect(engine.evaluate(facts())).toEqual({ matched: [], preferProviders: [], rateLimits: [], errors: [] });
  });

  it('route a small low-complexity request to gpt-3.5-turbo', () => {
    const outcome = engine.evaluate(facts({ token_count: 499, request_size: 499, complexity: 'low' }));
    expect(outcome.matched).toEqual(['Use cheaper model for simple tasks']);
    expect(outcome.model).toBe('gpt-3.5-turbo');
  });

  it.each([
    ['500 tokens', { token_count: 500, request_size: 500, complexity: 'low' }],
    ['high complexity', { token_count: 120, request_size: 120, complexity: 'high' }],
    ['no complexity', { token_count: 120, request_size: 120 }],
  ])('do not route with %s', (_label, overrides) => {
    expect(engine.evaluate(facts(overrides)).model).toBeUndefined();
  });

  it('batch a request under 100 tokens', () => {
    const outcome = engine.evaluate(facts({ token_count: 99, request_size: 99 }));
    expect(outcome.matched).toEqual(['Batch small requests']);
    expect(outcome.batch).toEqual({ rule: 'Batch small requests', delayMs: 5_000, maxBatchSize: 10 });
    expect(engine.evaluate(facts({ request_size: 100 })).batch).toBeUndefined();
  });

  it('prefer ollama in development only', () => {
    expect(engine.evaluate(facts({ environment: 'development' })).preferProviders).toEqual(['ollama']);
    expect(engine.evaluate(facts({ environment: 'Development' })).preferProviders).toEqual([]);
    expect(engine.evaluate(facts({ environment: 'staging' })).preferProviders).toEqual([]);
  });

  it('rate-limit gpt-4 to 10 requests per minute once more than $100 was spent today', () => {
    const outcome = engine.evaluate(facts({ model: 'gpt-4', cost_today: 100.01 }));
    expect(outcome.matched).toEqual(['Rate limit expensive models']);
    expect(outcome.rateLimits).toEqual([
      { scope: 'rule:Rate limit expensive models', label: "cost rule 'Rate limit expensive models'", limits: { rpm: 10 } },
    ]);
    expect(engine.evaluate(facts({ model: 'gpt-4', cost_today: 100 })).rateLimits).toEqual([]);
    expect(engine.evaluate(facts({ model: 'gpt-4o', cost_today: 500 })).rateLimits).toEqual([]);
  });

  it('apply every matching rule, in order', () => {
    const outcome = engine.evaluate(
      facts({ token_count: 50, request_size: 50, complexity: 'low', environment: 'development', model: 'gpt-4', cost_today: 150 }),
    );
    expect(outcome.matched).toEqual(seedNames);
    expect(outcome).toMatchObject({
      model: 'gpt-3.5-turbo',
      batch: { rule: 'Batch small requests', delayMs: 5_000, maxBatchSize: 10 },
      preferProviders: ['ollama'],
      rateLimits: [{ scope: 'rule:Rate limit expensive models', limits: { rpm: 10 } }],
      errors: [],
    });
  });
});

describe('compileCostRules', () => {
  it('reports an unknown variable as a compile issue naming the rule', () => {
    const result = compileCostRules([
      { name: 'Fine', condition: 'token_count < 10', action: { type: 'prefer_provider', provider: 'ollama' } },
      { name: 'Typo', condition: 'tokens < 500', action: { type: 'route_to_model', model: 'gpt-4o-mini' } },
    ]);
    expect('issues' in result).toBe(true);
    const { issues } = result as { issues: string[] };
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^cost_rules\.1 \('Typo'\): /);
    expect(issues[0]).toContain('tokens');
  });

  it('reports every bad rule, not only the first', () => {
    const result = compileCostRules([
      { name: 'One', condition: 'nope == 1', action: { type: 'prefer_provider', provider: 'a' } },
      { name: 'Two', condition: 'model ==', action: { type: 'prefer_provider', provider: 'b' } },
    ]) as { issues: string[] };
    expect(result.issues.some((issue) => issue.startsWith("cost_rules.0 ('One')"))).toBe(true);
    expect(result.issues.some((issue) => issue.startsWith("cost_rules.1 ('Two')"))).toBe(true);
  });

  it('a CEL condition compiles without warnings, and may use every documented variable', () => {
    const { engine, warnings } = engineOf([
      { name: 'CEL', condition: "model.startsWith('gpt-') && max_tokens <= 100", action: { type: 'route_to_model', model: 'gpt-4o-mini' } },
      {
        name: 'All',
        condition: costRuleVariables.map((name) => `${name} == ${name}`).join(' && '),
        action: { type: 'prefer_provider', provider: 'x' },
      },
    ]);
    expect(warnings).toEqual([]);
    expect(engine.evaluate(facts({ model: 'gpt-4o', max_tokens: 100 })).matched).toEqual(['CEL', 'All']);
  });

  it('a condition that fails at run time (a type mismatch) does not match and is reported by name', () => {
    const { engine } = engineOf([
      { name: 'Bad types', condition: 'model > 5', action: { type: 'route_to_model', model: 'cheap' } },
      { name: 'Good', condition: "environment == 'production'", action: { type: 'prefer_provider', provider: 'ollama' } },
    ]);
    const outcome = engine.evaluate(facts());
    expect(outcome.matched).toEqual(['Good']);
    expect(outcome.model).toBeUndefined();
    expect(outcome.errors).toHaveLength(1);
    expect(outcome.errors[0]).toMatch(/^'Bad types' could not be evaluated: /);
    expect(outcome.errors[0]).toContain('type mismatch');
  });

  it('a missing metadata field is reported, not matched', () => {
    const { engine } = engineOf([
      { name: 'Meta', condition: "metadata.tier == 'gold'", action: { type: 'prefer_provider', provider: 'a' } },
    ]);
    expect(engine.evaluate(facts()).errors[0]).toContain("'Meta' could not be evaluated");
    expect(engine.evaluate(facts({ metadata: { tier: 'gold' } })).matched).toEqual(['Meta']);
  });

  it('the first route_to_model and the first batch win; providers and rate limits accumulate', () => {
    const always = 'true';
    const { engine } = engineOf([
      { name: 'r1', condition: always, action: { type: 'route_to_model', model: 'first' } },
      { name: 'p1', condition: always, action: { type: 'prefer_provider', provider: 'ollama' } },
      { name: 'b1', condition: always, action: { type: 'batch_with_delay', delayMs: 100, maxBatchSize: 2 } },
      { name: 'r2', condition: always, action: { type: 'route_to_model', model: 'second' } },
      { name: 'p2', condition: always, action: { type: 'prefer_provider', provider: 'groq' } },
      { name: 'p3', condition: always, action: { type: 'prefer_provider', provider: 'ollama' } },
      { name: 'l1', condition: always, action: { type: 'apply_rate_limit', rpm: 5 } },
      { name: 'l2', condition: always, action: { type: 'apply_rate_limit', tpm: 1_000 } },
      { name: 'b2', condition: always, action: { type: 'batch_with_delay', delayMs: 900, maxBatchSize: 9 } },
    ]);
    const outcome = engine.evaluate(facts());
    expect(outcome.matched).toEqual(['r1', 'p1', 'b1', 'r2', 'p2', 'p3', 'l1', 'l2', 'b2']);
    expect(outcome.model).toBe('first');
    expect(outcome.batch).toEqual({ rule: 'b1', delayMs: 100, maxBatchSize: 2 });
    expect(outcome.preferProviders).toEqual(['ollama', 'groq']);
    expect(outcome.rateLimits).toEqual([
      { scope: 'rule:l1', label: "cost rule 'l1'", limits: { rpm: 5 } },
      { scope: 'rule:l2', label: "cost rule 'l2'", limits: { tpm: 1_000 } },
    ]);
  });

  it('no rules is an engine of size 0 that matches nothing', () => {
    const { engine, warnings } = engineOf([]);
    expect(engine.size).toBe(0);
    expect(warnings).toEqual([]);
    expect(engine.evaluate(facts()).matched).toEqual([]);
  });
});

describe('parseCostAction', () => {
  it.each([
    ["route_to_model('gpt-4o-mini')", { type: 'route_to_model', model: 'gpt-4o-mini' }],
    ['route_to_model("openai/gpt-4o-mini")', { type: 'route_to_model', model: 'openai/gpt-4o-mini' }],
    ['  route_to_model ( gpt-4o-mini )  ', { type: 'route_to_model', model: 'gpt-4o-mini' }],
    ["prefer_provider('ollama')", { type: 'prefer_provider', provider: 'ollama' }],
    ['apply_rate_limit(10_requests_per_minute)', { type: 'apply_rate_limit', rpm: 10 }],
    ['apply_rate_limit(1_000_tokens_per_minute)', { type: 'apply_rate_limit', tpm: 1_000 }],
    ['apply_rate_limit(250000_tokens_per_minute)', { type: 'apply_rate_limit', tpm: 250_000 }],
    ['batch_with_delay(5_seconds, max_batch_size=10)', { type: 'batch_with_delay', delayMs: 5_000, maxBatchSize: 10 }],
    ['batch_with_delay(2_s, max_batch_size = 3)', { type: 'batch_with_delay', delayMs: 2_000, maxBatchSize: 3 }],
    ['batch_with_delay(250_ms)', { type: 'batch_with_delay', delayMs: 250, maxBatchSize: 10 }],
    ['batch_with_delay(1_500_milliseconds, max_batch_size=25)', { type: 'batch_with_delay', delayMs: 1_500, maxBatchSize: 25 }],
    ['batch_with_delay(60_seconds)', { type: 'batch_with_delay', delayMs: 60_000, maxBatchSize: 10 }],
  ])('%s', (text, action) => {
    expect(parseCostAction(text)).toEqual(action);
  });

  it.each([
    ['route_to_model', 'is not an action call'],
    ["route_to_model('a'", 'is not an action call'],
    ["Route_To_Model('a')", 'is not an action call'],
    ['route_to_model()', 'route_to_model needs a model name'],
    ["route_to_model('')", 'route_to_model needs a model name'],
    ['prefer_provider()', 'prefer_provider needs a provider name'],
    ['apply_rate_limit(10)', "apply_rate_limit takes N_requests_per_minute or N_tokens_per_minute, got '10'"],
    ['apply_rate_limit(10_requests_per_hour)', 'apply_rate_limit takes N_requests_per_minute'],
    ['apply_rate_limit()', "got ''"],
    ['batch_with_delay(5_minutes)', 'batch_with_delay takes a delay such as 5_seconds'],
    ['batch_with_delay(5_seconds, size=3)', "batch_with_delay's second argument is max_batch_size=N, got 'size=3'"],
    ['batch_with_delay(61_seconds)', 'batch_with_delay waits at most 60_seconds'],
    ['batch_with_delay(60_001_ms)', 'batch_with_delay waits at most 60_seconds'],
    ["block_request('x')", "unknown action 'block_request'"],
  ])('%s is an error: %s', (text, message) => {
    const result = parseCostAction(text);
    expect(result).toHaveProperty('error');
    expect((result as { error: string }).error).toContain(message);
  });
});

describe('compileUsage', () => {
  const seedAlerts = [
    { threshold: 0.8, action: 'send_notification' },
    { threshold: 0.95, action: 'switch_to_cheaper_models' },
    { threshold: 1, action: 'pause_expensive_operations' },
  ];

  it("turns the seed's budgets block into a daily budget and one per model limit, sharing the alerts", () => {
    const { usage, issues } = compileFile(seedYaml);
    expect(issues).toEqual([]);
    expect(usage.budgets).toEqual([
      { name: 'daily', scope: { type: 'global', value: null }, period: 'daily', limitUsd: 200, alerts: seedAlerts },
      { name: 'model:gpt-4', scope: { type: 'model', value: 'gpt-4' }, period: 'daily', limitUsd: 150, alerts: seedAlerts },
      { name: 'model:claude-3-opus', scope: { type: 'model', value: 'claude-3-opus' }, period: 'daily', limitUsd: 100, alerts: seedAlerts },
    ]);
    expect(usage.expensiveOutputPrice).toBe(10);
    expect(usage.rateLimits).toEqual({});
    expect(usage.notifications).toEqual({});
    expect(usage.environment).toBeUndefined();
  });

  it('reads money and thresholds in every spelling the schema allows', () => {
    const { usage, issues } = compileFile(`
budgets:
  monthly_limit: "$1,500.50"
  expensive_output_price: 20
  alerts:
    - { threshold: 0.5, action: send_notification }
    - { threshold: "12.5 %", action: send_notification }
  limits:
    - name: alice
      scope: { user: alice }
      limit: 20
    - name: research
      scope: { project: research }
      period: daily
      limit: "$1_000"
      alerts: [{ threshold: 90%, action: pause_expensive_operations }]
    - name: everything
      limit: 5
`);
    expect(issues).toEqual([]);
    expect(usage.expensiveOutputPrice).toBe(20);
    expect(usage.budgets).toEqual([
      {
        name: 'monthly',
        scope: { type: 'global', value: null },
        period: 'monthly',
        limitUsd: 1500.5,
        alerts: [
          { threshold: 0.5, action: 'send_notification' },
          { threshold: 0.125, action: 'send_notification' },
        ],
      },
      { name: 'alice', scope: { type: 'user', value: 'alice' }, period: 'monthly', limitUsd: 20, alerts: [] },
      {
        name: 'research',
        scope: { type: 'project', value: 'research' },
        period: 'daily',
        limitUsd: 1000,
        alerts: [{ threshold: 0.9, action: 'pause_expensive_operations' }],
      },
      { name: 'everything', scope: { type: 'global', value: null }, period: 'monthly', limitUsd: 5, alerts: [] },
    ]);
  });

  it('reports two budgets of the same name', () => {
    const { issues } = compileFile(`
budgets:
  daily_limit: 10
  limits: [{ name: daily, limit: 5 }]
`);
    expect(issues).toEqual(["circuit-breaker.yaml: budgets: two budgets are named 'daily'; names must be unique"]);
  });

  it('reports a bad action with where it is, and leaves disabled rules out', () => {
    const { usage, issues } = compileFile(`
cost_rules:
  - { name: ok, condition: "true", action: "prefer_provider('ollama')" }
  - { name: bad, condition: "true", action: "teleport('mars')" }
  - { name: off, condition: "true", action: "prefer_provider('groq')", enabled: false }
`);
    expect(issues).toEqual([
      "circuit-breaker.yaml: cost_rules.1.action: unknown action 'teleport'; expected route_to_model, prefer_provider, apply_rate_limit or batch_with_delay",
    ]);
    expect(usage.costRules.map((rule) => rule.name)).toEqual(['ok']);
  });

  it('takes rate limits, the webhook and the environment (CB_ENVIRONMENT first)', () => {
    const yaml = `
rate_limits: { rpm: 600, concurrency: 20 }
notifications: { webhook_url: "https://hooks.example.com/budget" }
environment: staging
`;
    const fromFile = compileFile(yaml).usage;
    expect(fromFile.rateLimits).toEqual({ rpm: 600, concurrency: 20 });
    expect(fromFile.notifications).toEqual({ webhookUrl: 'https://hooks.example.com/budget' });
    expect(fromFile.environment).toBe('staging');
    expect(compileFile(yaml, { CB_ENVIRONMENT: 'development' }).usage.environment).toBe('development');
  });

  it('an empty file has no budgets and no rules', () => {
    const { usage, issues } = compileFile('{}');
    expect(issues).toEqual([]);
    expect(usage).toEqual({
      budgets: [],
      expensiveOutputPrice: 10,
      rateLimits: {},
      costRules: [],
      notifications: {},
      environment: undefined,
    });
  });
});
