import { createHash, randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { ErrorCode, GatewayError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Principal } from '../core/principal.js';
import type { BudgetDefinition, UsageConfig } from '../config/gateway-config.js';
import type { BudgetRecord, BudgetRepository, BudgetUsage } from '../storage/budget-repository.js';
import { periodEnd, periodStart } from './budget-periods.js';
import { formatUsd } from './cost.js';

/** A deployment a request may go to, as budgets see it. */
export interface BudgetCandidate {
  provider: string;
  model: string;
  /** Output price, USD per million tokens (for "expensive"). */
  outputPrice: number | undefined;
  /** The most this request can cost there; undefined when the price is unknown. */
  worstCaseUsd: number | undefined;
}

/** What a taken reservation allows and asks: candidates left out, a cheaper strategy, warnings. */
export interface Reservation {
  /** `provider/model` → why it may not serve this request (its budget is spent, or paused as expensive). */
  excluded: Map<string, string>;
  /** A budget crossed a `switch_to_cheaper_models` threshold: route by cost. */
  preferCheaper: boolean;
  warnings: string[];
  /** Books the actual cost against the budgets that cover where the request went, and drops the hold. */
  settle(served: { provider: string; model: string } | undefined, costUsd: number): Promise<void>;
}

export interface BudgetStatus {
  budget: BudgetRecord;
  periodStart: number;
  resetsAt: number;
  spentUsd: number;
  reservedUsd: number;
  remainingUsd: number;
  /** Spent + reserved over the limit, 0–1+. */
  used: number;
}

export type BudgetNotifier = (event: { budget: BudgetRecord; threshold: number; spentUsd: number; resetsAt: number }) => Promise<void>;

/** How long a reservation holds budget if its request never settles (the process died). */
const holdTtlMs = 30 * 60_000;
/** What an unpriced candidate holds: nothing to speak of, but a spent budget refuses it. */
const unpricedProbeUsd = 1e-9;
const unpricedWarning = 'the price of a candidate model is unknown, so its cost is not held against budgets (configure its price)';
/** How often each replica re-reads budget definitions others may have changed. */
const refreshMs = 10_000;

/**
 * Budgets: daily or monthly USD limits, for everything or for one model, provider, key, user, team or
 * project, with alert thresholds and the seed's actions.
 *
 * Enforcement reserves before dispatch and settles after: the worst-case cost of the request (every
 * prompt character a token, the whole output allowance, on the dearest candidate) is held against every
 * budget that covers it, atomically in the store, so parallel requests — on one replica or several —
 * cannot overshoot a limit by more than one request's worst case. A spent budget takes the candidates it
 * covers out of the route instead of refusing the request while others remain (another model's, or a
 * free local one). Free models are never blocked by cost; a model whose price is unknown holds nothing
 * (a warning says so) but is refused like the others once a budget covering it is spent. An exhausted budget answers 402 with its name and when it resets.
 */
export class BudgetService {
  private definitions: BudgetRecord[] = [];
  private loadedAt = 0;

  constructor(
    private readonly repository: BudgetRepository,
    private readonly config: UsageConfig,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly notify: BudgetNotifier,
  ) {}

  /** Stores the config file's budgets (replacing ones the file no longer has) and loads all. */
  async init(): Promise<void> {
    const fromConfig = this.config.budgets.map((definition) => toRecord(definition, 'config', this.clock.now()));
    for (const existing of await this.repository.list())
      if (existing.source === 'config' && !fromConfig.some((budget) => budget.id === existing.id))
        await this.repository.delete(existing.id);
    for (const budget of fromConfig) await this.repository.upsert(budget);
    await this.reload();
  }

  /** Every budget definition (config, API; key budgets are listed with their keys). */
  async list(): Promise<BudgetRecord[]> {
    await this.refreshIfStale();
    return this.definitions;
  }

  async create(definition: BudgetDefinition): Promise<BudgetRecord> {
    const record = toRecord(definition, 'api', this.clock.now());
    const clash = (await this.repository.list()).find((budget) => budget.name === record.name);
    if (clash && clash.source === 'config')
      throw new GatewayError(ErrorCode.invalidRequest, `Budget '${record.name}' is defined in the config file; change it there.`, {
        status: 409,
        param: 'name',
      });
    await this.repository.upsert(record);
    await this.reload();
    return record;
  }

  async remove(id: string): Promise<boolean> {
    const budget = (await this.repository.list()).find((entry) => entry.id === id || entry.name === id);
    if (!budget) return false;
    if (budget.source === 'config')
      throw new GatewayError(ErrorCode.invalidRequest, `Budget '${budget.name}' is defined in the config file; remove it there.`, {
        status: 409,
      });
    await this.repository.delete(budget.id);
    await this.reload();
    return true;
  }

  /** Spend, holds and what is left of each budget now (key budgets included for the keys given). */
  async status(keyBudgets: readonly BudgetRecord[] = []): Promise<BudgetStatus[]> {
    const now = this.clock.now();
    const result: BudgetStatus[] = [];
    for (const budget of [...(await this.list()), ...keyBudgets]) {
      const start = periodStart(budget.period, now);
      const usage = await this.repository.usage(budget.id, start, now);
      result.push(describeStatus(budget, start, usage, now));
    }
    return result;
  }

  /** Whether any budget could apply to this principal (so the caller can skip the work when none does). */
  hasBudgets(principal: Principal, keyBudget: BudgetRecord | undefined): boolean {
    return keyBudget !== undefined || this.definitions.some((budget) => coversPrincipal(budget, principal) !== false);
  }

  /**
   * Reserves the worst case against every budget covering this request, or throws a 402. Candidates
   * covered by a spent model/provider budget, or paused as expensive, come back in `excluded`.
   */
  async reserve(principal: Principal, keyBudget: BudgetRecord | undefined, candidates: readonly BudgetCandidate[]): Promise<Reservation> {
    await this.refreshIfStale();
    const now = this.clock.now();
    const holdId = randomUUID();
    const budgets = [...this.definitions, ...(keyBudget ? [keyBudget] : [])].filter(
      (budget) => coversPrincipal(budget, principal) !== false,
    );
    const excluded = new Map<string, string>();
    const warnings: string[] = [];
    let remaining = [...candidates];
    let taken: BudgetRecord[] = [];
    for (;;) {
      const applicable = budgets.filter((budget) => remaining.some((candidate) => coversCandidate(budget, candidate)));
      const unpriced = remaining.some((candidate) => candidate.worstCaseUsd === undefined);
      // An unpriced candidate holds nothing, but still needs room left: a spent budget stops it too.
      const amount = Math.max(unpriced ? unpricedProbeUsd : 0, ...remaining.map((candidate) => candidate.worstCaseUsd ?? 0));
      if (unpriced && applicable.length > 0 && !warnings.includes(unpricedWarning)) warnings.push(unpricedWarning);
      if (amount === 0) {
        // Nothing here costs anything (or its price is unknown): free models are never blocked by cost.
        taken = applicable;
        break;
      }
      const result = await this.repository.reserve(
        holdId,
        applicable.map((budget) => ({ budgetId: budget.id, periodStart: periodStart(budget.period, now), limitUsd: budget.limitUsd })),
        amount,
        now,
        now + holdTtlMs,
      );
      if (result.exceeded === undefined) {
        taken = applicable;
        this.applyAlerts(applicable, result.usage, remaining, excluded, warnings, now);
        break;
      }
      const budget = applicable.find((entry) => entry.id === result.exceeded) as BudgetRecord;
      const usage = result.usage[budget.id] ?? { spentUsd: 0, reservedUsd: 0 };
      // Candidates this budget does not cover (another model's), or that cost nothing, may still serve.
      const blocked = remaining.filter((candidate) => coversCandidate(budget, candidate) && candidate.worstCaseUsd !== 0);
      if (blocked.length < remaining.length) {
        for (const candidate of blocked) excluded.set(`${candidate.provider}/${candidate.model}`, `budget '${budget.name}' is exhausted`);
        remaining = remaining.filter((candidate) => !blocked.includes(candidate));
        continue;
      }
      throw exhaustedError(budget, usage, amount, now);
    }
    const preferCheaper = warnings.some((warning) => warning.startsWith('switching to cheaper models'));
    return {
      excluded,
      preferCheaper,
      warnings,
      settle: async (served, costUsd) => {
        const charged = served
          ? taken.filter((budget) => coversCandidate(budget, { ...served, outputPrice: undefined, worstCaseUsd: 0 }))
          : [];
        await this.repository.settle(
          holdId,
          charged.map((budget) => ({ budgetId: budget.id, periodStart: periodStart(budget.period, now) })),
          costUsd,
        );
        if (costUsd > 0)
          void this.checkAlerts(charged).catch((error: unknown) => this.logger.warn('budget alert check failed', { error: String(error) }));
      },
    };
  }

  /** Thresholds crossed before this request: notifications (once per period), cheaper routing, pauses. */
  private applyAlerts(
    budgets: readonly BudgetRecord[],
    usage: Record<string, BudgetUsage>,
    candidates: readonly BudgetCandidate[],
    excluded: Map<string, string>,
    warnings: string[],
    now: number,
  ): void {
    for (const budget of budgets) {
      if (budget.alerts.length === 0 || budget.limitUsd <= 0) continue;
      const current = usage[budget.id] ?? { spentUsd: 0, reservedUsd: 0 };
      const used = (current.spentUsd + current.reservedUsd) / budget.limitUsd;
      for (const alert of budget.alerts) {
        if (used < alert.threshold) continue;
        const percent = `${Math.round(alert.threshold * 100)} %`;
        if (alert.action === 'switch_to_cheaper_models')
          warnings.push(`switching to cheaper models: budget '${budget.name}' is past ${percent}`);
        if (alert.action === 'pause_expensive_operations') {
          for (const candidate of candidates)
            if (coversCandidate(budget, candidate) && (candidate.outputPrice ?? 0) >= this.config.expensiveOutputPrice)
              excluded.set(`${candidate.provider}/${candidate.model}`, `paused as expensive: budget '${budget.name}' is past ${percent}`);
        }
        if (alert.action === 'send_notification') void this.fire(budget, alert.threshold, current.spentUsd, now);
      }
    }
  }

  private async checkAlerts(budgets: readonly BudgetRecord[]): Promise<void> {
    const now = this.clock.now();
    for (const budget of budgets) {
      const thresholds = budget.alerts.filter((alert) => alert.action === 'send_notification');
      if (thresholds.length === 0 || budget.limitUsd <= 0) continue;
      const usage = await this.repository.usage(budget.id, periodStart(budget.period, now), now);
      for (const alert of thresholds)
        if (usage.spentUsd / budget.limitUsd >= alert.threshold) await this.fire(budget, alert.threshold, usage.spentUsd, now);
    }
  }

  /** Sends a threshold notification once per budget, period and threshold (across replicas: the store decides). */
  private async fire(budget: BudgetRecord, threshold: number, spentUsd: number, now: number): Promise<void> {
    try {
      if (!(await this.repository.markAlert(budget.id, periodStart(budget.period, now), threshold, now))) return;
      await this.notify({ budget, threshold, spentUsd, resetsAt: periodEnd(budget.period, now) });
    } catch (error) {
      this.logger.warn('budget notification failed', {
        budget: budget.name,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  private async refreshIfStale(): Promise<void> {
    if (this.clock.now() - this.loadedAt > refreshMs) await this.reload();
  }

  private async reload(): Promise<void> {
    this.definitions = await this.repository.list();
    this.loadedAt = this.clock.now();
  }
}

/** A key's own budget (its `scopes.budget`) as a budget record, so it is enforced like the others. */
export function keyBudgetRecord(keyId: string, keyName: string, budget: { limitUsd: number; period: 'daily' | 'monthly' }): BudgetRecord {
  return {
    id: `key:${keyId}`,
    name: `key ${keyName}`,
    scope: { type: 'key', value: keyId },
    period: budget.period,
    limitUsd: budget.limitUsd,
    alerts: [],
    source: 'api',
    createdAt: 0,
  };
}

function toRecord(definition: BudgetDefinition, source: BudgetRecord['source'], now: number): BudgetRecord {
  return {
    id: `budget_${createHash('sha256').update(definition.name).digest('hex').slice(0, 16)}`,
    name: definition.name,
    scope: definition.scope,
    period: definition.period,
    limitUsd: definition.limitUsd,
    alerts: definition.alerts,
    source,
    createdAt: now,
  };
}

/** Whether a budget covers this caller: true, false, or 'candidates' (it depends on where the request goes). */
function coversPrincipal(budget: BudgetRecord, principal: Principal): boolean | 'candidates' {
  switch (budget.scope.type) {
    case 'global':
      return true;
    case 'model':
    case 'provider':
      return 'candidates';
    case 'key':
      return principal.keyId !== null && principal.keyId === budget.scope.value;
    case 'user':
      return principal.user !== null && principal.user === budget.scope.value;
    case 'team':
      return principal.team !== null && principal.team === budget.scope.value;
    case 'project':
      return principal.project !== null && principal.project === budget.scope.value;
  }
}

function coversCandidate(budget: BudgetRecord, candidate: BudgetCandidate): boolean {
  if (budget.scope.type === 'model')
    return candidate.model === budget.scope.value || `${candidate.provider}/${candidate.model}` === budget.scope.value;
  if (budget.scope.type === 'provider') return candidate.provider === budget.scope.value;
  return true;
}

function describeStatus(budget: BudgetRecord, start: number, usage: BudgetUsage, now: number): BudgetStatus {
  return {
    budget,
    periodStart: start,
    resetsAt: periodEnd(budget.period, now),
    spentUsd: usage.spentUsd,
    reservedUsd: usage.reservedUsd,
    remainingUsd: Math.max(0, budget.limitUsd - usage.spentUsd - usage.reservedUsd),
    used: budget.limitUsd > 0 ? (usage.spentUsd + usage.reservedUsd) / budget.limitUsd : 1,
  };
}

function exhaustedError(budget: BudgetRecord, usage: BudgetUsage, amount: number, now: number): GatewayError {
  const resetsAt = periodEnd(budget.period, now);
  const scope = budget.scope.type === 'global' ? 'all requests' : `${budget.scope.type} ${budget.scope.value ?? ''}`.trim();
  return new GatewayError(
    ErrorCode.budgetExhausted,
    `Budget '${budget.name}' (${budget.period}, ${scope}) is exhausted: ${formatUsd(usage.spentUsd)} spent and ${formatUsd(usage.reservedUsd)} held by requests in flight, of ${formatUsd(budget.limitUsd)}. This request could cost up to ${formatUsd(amount)} (lower max_tokens to hold less). It resets at ${new Date(resetsAt).toISOString()}.`,
    {
      status: 402,
      retryAfterMs: resetsAt - now,
      headers: { 'x-cb-budget': budget.name, 'x-cb-budget-reset': new Date(resetsAt).toISOString() },
    },
  );
}
