import type { Clock } from '../core/clock.js';
import type { UsageRepository } from '../storage/usage-repository.js';
import { periodEnd, periodStart } from './budget-periods.js';

/**
 * Today's spend (UTC day) in memory, for cost rules (`cost_today`, `key_cost_today`, `model_cost_today`)
 * that run on every request and must not query the ledger each time. Seeded from the ledger at start and
 * fed by every finished request; with several replicas each knows the whole ledger as of its start plus
 * its own traffic since (budgets, which must be exact, use the store instead).
 */
export class SpendTracker {
  private dayEnd = 0;
  private total = 0;
  private readonly byKey = new Map<string, number>();
  private readonly byModel = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  async seed(usage: UsageRepository): Promise<void> {
    const now = this.clock.now();
    this.roll(now);
    const filter = { from: periodStart('daily', now), to: now + 1 };
    this.total = (await usage.totals(filter)).costUsd;
    for (const group of await usage.groupBy(filter, 'key')) if (group.key !== null) this.byKey.set(group.key, group.costUsd);
    for (const group of await usage.groupBy(filter, 'model')) if (group.key !== null) this.byModel.set(group.key, group.costUsd);
  }

  add(costUsd: number, keyId: string | null, model: string | null): void {
    if (costUsd <= 0) return;
    this.roll(this.clock.now());
    this.total += costUsd;
    if (keyId !== null) this.byKey.set(keyId, (this.byKey.get(keyId) ?? 0) + costUsd);
    if (model !== null) this.byModel.set(model, (this.byModel.get(model) ?? 0) + costUsd);
  }

  today(): { total: number; key: (id: string | null) => number; model: (id: string) => number } {
    this.roll(this.clock.now());
    return {
      total: this.total,
      key: (id) => (id === null ? 0 : (this.byKey.get(id) ?? 0)),
      model: (id) => this.byModel.get(id) ?? 0,
    };
  }

  private roll(now: number): void {
    if (now < this.dayEnd) return;
    this.dayEnd = periodEnd('daily', now);
    this.total = 0;
    this.byKey.clear();
    this.byModel.clear();
  }
}
