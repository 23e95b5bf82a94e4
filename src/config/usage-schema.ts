import { z } from 'zod';

/**
 * The config file's sections for money and limits: `budgets` (the seed's `daily_limit`, `model_limits`,
 * `alerts`, plus a general `limits` list), global `rate_limits`, `cost_rules`, and `notifications`.
 */

/** USD as a number or the seed's `$200` / `$1,500.50` strings. */
export const moneySchema = z.union([
  z.number().nonnegative(),
  z.string().regex(/^\$?\s*\d[\d_,]*(\.\d+)?$/, 'a USD amount such as 200, "$200" or "$1,500.50"'),
]);

/** A fraction 0–1 or the seed's `80%`. */
export const thresholdSchema = z.union([
  z.number().min(0).max(1),
  z.string().regex(/^\d{1,3}(\.\d+)?\s*%$/, 'a percentage such as "80%" (or a fraction such as 0.8)'),
]);

const alertSchema = z.strictObject({
  threshold: thresholdSchema,
  action: z.enum(['send_notification', 'switch_to_cheaper_models', 'pause_expensive_operations']),
});

const budgetScopeSchema = z
  .strictObject({
    model: z.string().min(1).optional(),
    provider: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    user: z.string().min(1).optional(),
    team: z.string().min(1).optional(),
    project: z.string().min(1).optional(),
  })
  .refine((scope) => Object.keys(scope).length <= 1, 'name at most one of model, provider, key, user, team, project');

export const budgetsSchema = z.strictObject({
  /** The seed's global daily limit. */
  daily_limit: moneySchema.optional(),
  monthly_limit: moneySchema.optional(),
  /** The seed's per-model daily limits: `{ gpt-4: $150 }`. */
  model_limits: z.record(z.string().min(1), moneySchema).optional(),
  /** Alerts for the seed-form budgets above. */
  alerts: z.array(alertSchema).optional(),
  limits: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[\w.-]{1,64}$/, 'letters, digits, _, . and - (at most 64)'),
        scope: budgetScopeSchema.optional(),
        period: z.enum(['daily', 'monthly']).optional(),
        limit: moneySchema,
        alerts: z.array(alertSchema).optional(),
      }),
    )
    .optional(),
  /** USD per million output tokens at or above which a model counts as expensive (`pause_expensive_operations`). */
  expensive_output_price: z.number().nonnegative().optional(),
});

export const rateLimitsSchema = z.strictObject({
  rpm: z.number().int().positive().optional(),
  tpm: z.number().int().positive().optional(),
  concurrency: z.number().int().positive().optional(),
});

export const costRuleSchema = z.strictObject({
  name: z.string().min(1).max(100),
  /** A CEL expression (the seed's SQL-like spelling is accepted too), see docs/rules.md. */
  condition: z.string().min(1).max(2000),
  /** `route_to_model('gpt-4o-mini')`, `prefer_provider('ollama')`, `apply_rate_limit(10_requests_per_minute)`, `batch_with_delay(5_seconds, max_batch_size=10)`. */
  action: z.string().min(1).max(200),
  enabled: z.boolean().optional(),
});

export const notificationsSchema = z.strictObject({
  /** Budget alerts are POSTed here as JSON (Slack-compatible `text` included); without it they are logged. */
  webhook_url: z.string().url().optional(),
});
