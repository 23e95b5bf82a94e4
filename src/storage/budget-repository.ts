export type BudgetPeriod = 'daily' | 'monthly';
export type BudgetScopeType = 'global' | 'model' | 'provider' | 'key' | 'user' | 'team' | 'project';
export const budgetActions = ['send_notification', 'switch_to_cheaper_models', 'pause_expensive_operations'] as const;
export type BudgetAction = (typeof budgetActions)[number];

export interface BudgetAlert {
  /** Fraction of the limit, 0–1 (the seed's `80%` is 0.8). */
  threshold: number;
  action: BudgetAction;
}

/** A spending limit over a period, for everything or for one model, provider, key, user, team or project. */
export interface BudgetRecord {
  id: string;
  name: string;
  scope: { type: BudgetScopeType; value: string | null };
  period: BudgetPeriod;
  limitUsd: number;
  alerts: BudgetAlert[];
  /** Where it was defined: the config file (read-only through the API) or the admin API. */
  source: 'config' | 'api';
  createdAt: number;
}

/** Spend of one budget in one period: settled spend and what in-flight requests have reserved. */
export interface BudgetUsage {
  spentUsd: number;
  reservedUsd: number;
}

export interface BudgetRepository {
  /** Inserts or replaces by id. */
  upsert(record: BudgetRecord): Promise<void>;
  list(): Promise<BudgetRecord[]>;
  delete(id: string): Promise<boolean>;
  /**
   * Atomically reserves `amountUsd` against each budget (period start given per budget) if, for every one,
   * spent + live holds + amount ≤ limit; all or none. Returns the id of the first budget that would be
   * exceeded (`exceeded`, undefined when the hold was taken) and each budget's usage as it stood before
   * this hold. Holds expire at `expiresAt` (a crashed request cannot hold budget forever).
   */
  reserve(
    holdId: string,
    budgets: readonly { budgetId: string; periodStart: number; limitUsd: number }[],
    amountUsd: number,
    now: number,
    expiresAt: number,
  ): Promise<{ exceeded: string | undefined; usage: Record<string, BudgetUsage> }>;
  /** Drops the hold and adds the actual cost to each budget's spend. */
  settle(holdId: string, charges: readonly { budgetId: string; periodStart: number }[], costUsd: number): Promise<void>;
  usage(budgetId: string, periodStart: number, now: number): Promise<BudgetUsage>;
  /** Records that an alert threshold fired this period; false when it already had (fire once, across replicas). */
  markAlert(budgetId: string, periodStart: number, threshold: number, at: number): Promise<boolean>;
}
