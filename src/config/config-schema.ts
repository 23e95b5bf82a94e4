import { z } from 'zod';
import { budgetsSchema, costRuleSchema, notificationsSchema, rateLimitsSchema } from './usage-schema.js';

/**
 * The YAML config file's schema (`CB_CONFIG`, default `./circuit-breaker.yaml`). Keys are snake_case as
 * users write them; `load-config.ts` merges this with the environment and compiles it. Unknown keys are
 * errors, so a typo is reported rather than ignored.
 */

const secretReference = z.string().min(1);
const positiveInt = z.number().int().positive();

export const providerKindNames = [
  'openai',
  'azure',
  'azure_openai',
  'anthropic',
  'google',
  'gemini',
  'ollama',
  'openai_compatible',
  'custom',
] as const;

export const capabilityNames = ['tools', 'vision', 'json_schema', 'streaming', 'embeddings'] as const;

const modelEntrySchema = z.strictObject({
  context_length: positiveInt.optional(),
  max_output_tokens: positiveInt.optional(),
  /** USD per million input tokens. */
  input_price: z.number().nonnegative().optional(),
  output_price: z.number().nonnegative().optional(),
  cached_input_price: z.number().nonnegative().optional(),
  cache_write_price: z.number().nonnegative().optional(),
  capabilities: z.array(z.enum(capabilityNames)).optional(),
});
export type ModelEntryInput = z.infer<typeof modelEntrySchema>;

const providerSchema = z.strictObject({
  kind: z.enum(providerKindNames).optional(),
  base_url: z.string().url().optional(),
  /** Azure's resource endpoint (a URL or `env:NAME`). */
  endpoint: z.string().min(1).optional(),
  api_key: secretReference.optional(),
  api_keys: z.array(secretReference).optional(),
  api_version: z.string().min(1).optional(),
  models: z.union([z.array(z.string().min(1)), z.record(z.string().min(1), modelEntrySchema.nullable())]).optional(),
  /** Azure: model name → deployment name. */
  deployments: z.record(z.string().min(1), z.string().min(1)).optional(),
  headers: z.record(z.string().min(1), z.string()).optional(),
  rate_limits: z.strictObject({ rpm: positiveInt.optional(), tpm: positiveInt.optional() }).optional(),
  timeouts: z
    .strictObject({ connect_ms: positiveInt.optional(), headers_ms: positiveInt.optional(), idle_ms: positiveInt.optional() })
    .optional(),
  /** Ask the provider for its model list at start-up (default: true for ollama, false otherwise). */
  discover: z.boolean().optional(),
  enabled: z.boolean().optional(),
  /** Share of traffic under `load_balanced` (default 1). */
  weight: z.number().positive().optional(),
});
export type ProviderInput = z.infer<typeof providerSchema>;

export const routingStrategies = ['cost_optimized', 'performance_first', 'load_balanced', 'failover_chain', 'model_specific'] as const;

const aliasSchema = z.strictObject({
  /** Upstream model name when it differs from the alias (default: the alias itself). */
  model: z.string().min(1).optional(),
  primary: z.string().min(1).optional(),
  fallback: z.array(z.string().min(1)).optional(),
  providers: z.array(z.string().min(1)).optional(),
  strategy: z.enum(routingStrategies).optional(),
  cost_limit: z.string().optional(),
  performance_target: z.string().optional(),
});
export type AliasInput = z.infer<typeof aliasSchema>;

export const configFileSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().min(1).optional(),
      port: z.number().int().min(0).max(65535).optional(),
      /** Largest accepted request body, bytes. */
      body_limit: positiveInt.optional(),
      /** Milliseconds of silence after which a stream gets a keep-alive comment. */
      keep_alive_interval_ms: positiveInt.optional(),
    })
    .optional(),
  data_dir: z.string().min(1).optional(),
  storage: z
    .strictObject({
      backend: z.enum(['sqlite', 'postgres', 'nats']).optional(),
      database_url: z.string().min(1).optional(),
      /** PostgreSQL schema for the gateway's tables (created when missing); default: the connection's search_path. */
      schema: z
        .string()
        .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lowercase SQL identifier')
        .optional(),
      /** NATS with JetStream (`nats://host:4222`): workflow state when `backend: nats`, and the event bus. */
      nats_url: z.string().min(1).optional(),
      /** Names the workflow store's NATS buckets and stream (`cb` → `cb_wf_instances`, `CB_WORKFLOW_EVENTS`), so deployments can share a server. */
      nats_prefix: z
        .string()
        .regex(/^[A-Za-z][A-Za-z0-9_-]{0,31}$/, 'letters, digits, _ and - (up to 32, starting with a letter)')
        .optional(),
    })
    .optional(),
  /** Who carries engine, completion, cost and health events: `memory` (this process) or `nats` (every replica); default nats when a NATS URL is set. */
  event_bus: z.enum(['memory', 'nats']).optional(),
  providers: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, _ and -'), providerSchema).optional(),
  routing: z
    .strictObject({
      strategy: z.enum(routingStrategies).optional(),
      fallbacks: z.boolean().optional(),
      /** Most upstream attempts for one request, across candidates and retry rounds. */
      max_attempts: positiveInt.optional(),
      /** Longest the router waits (backoff) for an unavailable provider before answering 503. */
      max_wait_ms: z.number().int().nonnegative().optional(),
      /** Keep requests with the same prompt prefix on the same key, so provider prompt caches stay warm. */
      sticky_keys: z.boolean().optional(),
    })
    .optional(),
  health: z
    .strictObject({
      window_ms: positiveInt.optional(),
      min_samples: positiveInt.optional(),
      error_rate_threshold: z.number().min(0).max(1).optional(),
      consecutive_failures: positiveInt.optional(),
      latency_threshold_ms: positiveInt.optional(),
      open_ms: positiveInt.optional(),
      max_open_ms: positiveInt.optional(),
      rate_limit_cooldown_ms: positiveInt.optional(),
    })
    .optional(),
  models: z.record(z.string().min(1), aliasSchema).optional(),
  access: z
    .strictObject({
      admin_key: secretReference.optional(),
      master_key: secretReference.optional(),
      /** Master keys still accepted for reading during a rotation. */
      previous_master_keys: z.array(secretReference).optional(),
    })
    .optional(),
  budgets: budgetsSchema.optional(),
  /** Limits for all traffic through this server, on top of each key's own. */
  rate_limits: rateLimitsSchema.optional(),
  cost_rules: z.array(costRuleSchema).optional(),
  notifications: notificationsSchema.optional(),
  metrics: z
    .strictObject({
      /** Serve `/metrics` without a key (default: only with the admin key, or from loopback when no key is configured). */
      public: z.boolean().optional(),
    })
    .optional(),
  /** The workflow runtime (docs/workflows.md, "Runtime"). */
  workflows: z
    .strictObject({
      /** How long an action is leased to one server before another may run it again (ms; `CB_WORKFLOW_LEASE_MS`). */
      action_lease_ms: z.number().int().min(100).optional(),
      /** How often the outbox and timers are polled (ms; `CB_WORKFLOW_POLL_MS`). */
      poll_ms: z.number().int().min(10).optional(),
      /** Attempts of a failing action before the instance fails. */
      max_attempts: z.number().int().min(1).max(100).optional(),
    })
    .optional(),
  /** Tag usage records and cost rules with this (`development`, `production`); `CB_ENVIRONMENT` overrides. */
  environment: z.string().min(1).max(64).optional(),
});
export type ConfigFile = z.infer<typeof configFileSchema>;
