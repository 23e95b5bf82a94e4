import type { z } from 'zod';
import type { ConfigFile } from './config-schema.js';
import type { CostAction, UsageConfig } from './gateway-config.js';
import type { moneySchema, thresholdSchema } from './usage-schema.js';

type Money = z.infer<typeof moneySchema>;
type Threshold = z.infer<typeof thresholdSchema>;

/** Default for `budgets.expensive_output_price`: models at or above $10 per million output tokens are "expensive". */
const defaultExpensiveOutputPrice = 10;

/**
 * Compiles the file's budgets, global rate limits, cost rules and notifications. The seed's shorthand
 * (`daily_limit`, `monthly_limit`, `model_limits`, shared `alerts`) becomes budgets named `daily`,
 * `monthly` and `model:<name>`; `limits` entries are taken as written. Problems go to `issues`.
 */
export function compileUsage(parsed: ConfigFile, env: Record<string, string | undefined>, where: string, issues: string[]): UsageConfig {
  const input = parsed.budgets ?? {};
  const seedAlerts = (input.alerts ?? []).map((alert) => ({ threshold: fraction(alert.threshold), action: alert.action }));
  const budgets: UsageConfig['budgets'] = [];
  if (input.daily_limit !== undefined)
    budgets.push({
      name: 'daily',
      scope: { type: 'global', value: null },
      period: 'daily',
      limitUsd: usd(input.daily_limit),
      alerts: seedAlerts,
    });
  if (input.monthly_limit !== undefined)
    budgets.push({
      name: 'monthly',
      scope: { type: 'global', value: null },
      period: 'monthly',
      limitUsd: usd(input.monthly_limit),
      alerts: seedAlerts,
    });
  for (const [model, limit] of Object.entries(input.model_limits ?? {}))
    budgets.push({
      name: `model:${model}`,
      scope: { type: 'model', value: model },
      period: 'daily',
      limitUsd: usd(limit),
      alerts: seedAlerts,
    });
  for (const entry of input.limits ?? []) {
    const [type, value] = Object.entries(entry.scope ?? {})[0] ?? ['global', null];
    budgets.push({
      name: entry.name,
      scope: { type: type as UsageConfig['budgets'][number]['scope']['type'], value: value ?? null },
      period: entry.period ?? 'monthly',
      limitUsd: usd(entry.limit),
      alerts: (entry.alerts ?? []).map((alert) => ({ threshold: fraction(alert.threshold), action: alert.action })),
    });
  }
  const names = new Set<string>();
  for (const budget of budgets) {
    if (names.has(budget.name)) issues.push(`${where}: budgets: two budgets are named '${budget.name}'; names must be unique`);
    names.add(budget.name);
  }

  const costRules: UsageConfig['costRules'] = [];
  (parsed.cost_rules ?? []).forEach((rule, index) => {
    if (rule.enabled === false) return;
    const action = parseCostAction(rule.action);
    if ('error' in action) issues.push(`${where}: cost_rules.${index}.action: ${action.error}`);
    else costRules.push({ name: rule.name, condition: rule.condition, action });
  });

  const webhookUrl = parsed.notifications?.webhook_url;
  return {
    budgets,
    expensiveOutputPrice: input.expensive_output_price ?? defaultExpensiveOutputPrice,
    rateLimits: parsed.rate_limits ?? {},
    costRules,
    notifications: webhookUrl ? { webhookUrl } : {},
    environment: env['CB_ENVIRONMENT'] ?? parsed.environment,
  };
}

function usd(value: Money): number {
  return typeof value === 'number' ? value : Number(value.replace(/[$\s,_]/g, ''));
}

function fraction(value: Threshold): number {
  return typeof value === 'number' ? value : Number(value.replace(/[%\s]/g, '')) / 100;
}

/**
 * Parses the seed's action spellings: `route_to_model('gpt-4o-mini')`, `prefer_provider('ollama')`,
 * `apply_rate_limit(10_requests_per_minute)` (or `N_tokens_per_minute`), and
 * `batch_with_delay(5_seconds, max_batch_size=10)`.
 */
export function parseCostAction(text: string): CostAction | { error: string } {
  const match = /^\s*([a-z_]+)\s*\((.*)\)\s*$/.exec(text);
  if (!match) return { error: `'${text}' is not an action call such as route_to_model('gpt-4o-mini')` };
  const [, name, rawArguments = ''] = match;
  const args = rawArguments
    .split(',')
    .map((part) => part.trim().replace(/^['"]|['"]$/g, ''))
    .filter((part) => part !== '');
  switch (name) {
    case 'route_to_model':
      return args[0] ? { type: 'route_to_model', model: args[0] } : { error: 'route_to_model needs a model name' };
    case 'prefer_provider':
      return args[0] ? { type: 'prefer_provider', provider: args[0] } : { error: 'prefer_provider needs a provider name' };
    case 'apply_rate_limit': {
      const limit = /^(\d[\d_]*)_(requests|tokens)_per_minute$/.exec(args[0] ?? '');
      if (!limit) return { error: `apply_rate_limit takes N_requests_per_minute or N_tokens_per_minute, got '${args[0] ?? ''}'` };
      const amount = Number((limit[1] ?? '').replaceAll('_', ''));
      return limit[2] === 'requests' ? { type: 'apply_rate_limit', rpm: amount } : { type: 'apply_rate_limit', tpm: amount };
    }
    case 'batch_with_delay': {
      const delay = /^(\d[\d_]*)_(milliseconds|ms|seconds|s)$/.exec(args[0] ?? '');
      if (!delay) return { error: `batch_with_delay takes a delay such as 5_seconds, got '${args[0] ?? ''}'` };
      const amount = Number((delay[1] ?? '').replaceAll('_', ''));
      const delayMs = delay[2] === 'milliseconds' || delay[2] === 'ms' ? amount : amount * 1000;
      const size = /^max_batch_size\s*=\s*(\d+)$/.exec(args[1] ?? 'max_batch_size=10');
      if (!size) return { error: `batch_with_delay's second argument is max_batch_size=N, got '${args[1] ?? ''}'` };
      if (delayMs > 60_000) return { error: 'batch_with_delay waits at most 60_seconds' };
      return { type: 'batch_with_delay', delayMs, maxBatchSize: Number(size[1]) };
    }
    default:
      return { error: `unknown action '${name}'; expected route_to_model, prefer_provider, apply_rate_limit or batch_with_delay` };
  }
}
