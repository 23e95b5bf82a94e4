/**
 * The payloads the gateway publishes on the event bus for subscribers (GraphQL `costUpdates` and
 * `providerHealth`, dashboards), on `topics.costs` and `topics.providerHealth`. Plain JSON, so they
 * cross replicas through any bus.
 */
export interface CostUpdateEvent {
  type: 'COST_INCURRED' | 'BUDGET_WARNING' | 'BUDGET_EXHAUSTED';
  /** ISO time. */
  at: string;
  requestId: string | null;
  /** The key the request or budget belongs to; null for the admin key, anonymous callers and budgets not tied to a key. */
  keyId: string | null;
  provider: string | null;
  model: string | null;
  costUsd: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
  budget: string | null;
  threshold: number | null;
  spentUsd: number | null;
  limitUsd: number | null;
  message: string;
}

export interface ProviderHealthEvent {
  provider: string;
  model: string;
  upstreamModel: string;
  /** Circuit states as the API spells them: CLOSED, OPEN, HALF_OPEN. */
  from: string;
  to: string;
  at: string;
  errorRate: number;
  consecutiveFailures: number;
  openUntil: string | null;
  lastError: string | null;
}

/** A cost event with every optional field empty. */
export function costEvent(fields: Partial<CostUpdateEvent> & Pick<CostUpdateEvent, 'type' | 'at' | 'message'>): CostUpdateEvent {
  return {
    requestId: null,
    keyId: null,
    provider: null,
    model: null,
    costUsd: null,
    promptTokens: null,
    completionTokens: null,
    budget: null,
    threshold: null,
    spentUsd: null,
    limitUsd: null,
    ...fields,
  };
}
