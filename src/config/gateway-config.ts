import type { ModelCapabilities, ModelPricing, ProviderKind } from '../core/models.js';
import type { Secret } from './secret.js';
import type { HealthPolicy } from '../routing/health-policy.js';
import type { routingStrategies } from './config-schema.js';
import type { BudgetAlert, BudgetPeriod, BudgetScopeType } from '../storage/budget-repository.js';

/** The compiled configuration the rest of the server reads: defaults applied, references resolved. */
export interface GatewayConfig {
  server: {
    host: string;
    port: number;
    bodyLimitBytes: number;
    keepAliveIntervalMs: number;
  };
  dataDir: string;
  storage: { backend: 'sqlite' | 'postgres' | 'nats'; databaseUrl?: string; natsUrl?: string; natsPrefix?: string; schema?: string };
  /** The event bus: `memory` (this process) or `nats` (every replica, at `storage.natsUrl`). */
  events: { bus: 'memory' | 'nats' };
  providers: ProviderConfig[];
  /** Model aliases and virtual models from the config file's `models:` section. */
  aliases: Record<string, AliasConfig>;
  routing: { strategy: RoutingStrategy; fallbacks: boolean; maxAttempts: number; maxWaitMs: number; stickyKeys: boolean };
  health: HealthPolicy;
  access: { adminKey?: Secret; masterKey?: Secret; previousMasterKeys: Secret[] };
  usage: UsageConfig;
  metrics: { public: boolean };
  /** Workflow runtime tuning; defaults when absent (see `WorkflowRunnerOptions`). */
  workflows?: { leaseMs?: number; pollMs?: number; maxAttempts?: number };
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** The config file read, if any. */
  file?: string;
}

export type RoutingStrategy = (typeof routingStrategies)[number];

export interface ProviderConfig {
  name: string;
  kind: ProviderKind;
  baseUrl: string;
  apiKeys: Secret[];
  apiVersion?: string;
  /** Models declared in config, with optional overrides of the shipped catalog's facts. */
  models: ModelOverride[];
  deployments: Record<string, string>;
  headers: Record<string, string>;
  rateLimits: { rpm?: number; tpm?: number };
  timeouts: { connectMs: number; headersMs: number; idleMs: number };
  discover: boolean;
  weight: number;
}

export interface ModelOverride {
  id: string;
  contextLength?: number;
  maxOutputTokens?: number;
  pricing?: ModelPricing;
  capabilities?: Partial<ModelCapabilities>;
}

export interface AliasConfig {
  /** Ordered targets, each `provider` or `provider/model`. */
  targets: string[];
  /** Upstream model name used with targets that name only a provider. */
  model: string;
  strategy?: RoutingStrategy;
  /** Most USD per 1,000 tokens (input and output averaged) a target may cost (`cost_limit: "$0.03/1k_tokens"`). */
  maxCostPer1kTokens?: number;
  /** Targets whose recent latency exceeds this are skipped (`performance_target: 2s`). */
  maxLatencyMs?: number;
}

/** Budgets, rate limits, cost rules and notifications, compiled (`compile-usage.ts`). */
export interface UsageConfig {
  budgets: BudgetDefinition[];
  /** USD per million output tokens from which a model counts as expensive. */
  expensiveOutputPrice: number;
  /** Limits over all traffic through this server. */
  rateLimits: { rpm?: number; tpm?: number; concurrency?: number };
  costRules: { name: string; condition: string; action: CostAction }[];
  notifications: { webhookUrl?: string };
  environment: string | undefined;
}

export interface BudgetDefinition {
  name: string;
  scope: { type: BudgetScopeType; value: string | null };
  period: BudgetPeriod;
  limitUsd: number;
  alerts: BudgetAlert[];
}

export type CostAction =
  | { type: 'route_to_model'; model: string }
  | { type: 'prefer_provider'; provider: string }
  | { type: 'apply_rate_limit'; rpm?: number; tpm?: number }
  | { type: 'batch_with_delay'; delayMs: number; maxBatchSize: number };
