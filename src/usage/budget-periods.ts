import type { BudgetPeriod } from '../storage/budget-repository.js';

/** Start of the budget period containing `now` (UTC midnight, or the first of the month at UTC midnight). */
export function periodStart(period: BudgetPeriod, now: number): number {
  const date = new Date(now);
  return period === 'daily'
    ? Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate())
    : Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
}

/** When the period containing `now` ends and the budget resets. */
export function periodEnd(period: BudgetPeriod, now: number): number {
  const date = new Date(periodStart(period, now));
  return period === 'daily'
    ? Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1)
    : Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}
