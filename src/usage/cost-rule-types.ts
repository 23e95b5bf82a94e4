import type { RateLimits } from './rate-limiter.js';

/** What cost-rule conditions can read about a request (`docs/usage.md#cost-rules` lists them). */
export interface CostFacts {
  /** Prompt tokens, estimated (characters / 4; cheap, no tokenizer on the hot path). */
  token_count: number;
  /** Same as token_count (the seed's `request_size`). */
  request_size: number;
  model: string;
  max_tokens: number;
  stream: boolean;
  environment: string;
  /** USD spent today (UTC) through this server, all keys. */
  cost_today: number;
  /** USD spent today by this request's key. */
  key_cost_today: number;
  /** USD spent today on the requested model. */
  model_cost_today: number;
  user: string;
  team: string;
  project: string;
  key: string;
  tags: string[];
  task_type: string;
  /** `circuit_breaker.complexity` or `metadata.complexity` (`low`, `medium`, `high`), else ''. */
  complexity: string;
  metadata: Record<string, string>;
}

/** What the matching rules ask for this request. */
export interface CostRuleOutcome {
  /** Names of the rules whose condition held, in order. */
  matched: string[];
  /** `route_to_model`: the first matching rule's model replaces the requested one. */
  model?: string;
  /** `prefer_provider`: providers to try first, in rule order. */
  preferProviders: string[];
  /** `apply_rate_limit`: one scope per matching rule. */
  rateLimits: { scope: string; label: string; limits: RateLimits }[];
  /** `batch_with_delay`: the first matching rule's batch. */
  batch?: { rule: string; delayMs: number; maxBatchSize: number };
  /** Conditions that failed to evaluate (a value missing, a type mismatch): named so users can fix them. */
  errors: string[];
}

export interface CostRuleEngine {
  /** Whether any rule needs `cost_today`-style facts (so they are computed only when used). */
  readonly size: number;
  evaluate(facts: CostFacts): CostRuleOutcome;
}
