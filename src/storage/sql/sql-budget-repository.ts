import type { Kysely, Transaction } from 'kysely';
import type { BudgetRecord, BudgetRepository, BudgetUsage } from '../budget-repository.js';
import type { SqlSchema } from './sql-schema.js';

/**
 * Budgets over Kysely. Reservations are rows in `budget_holds` (with an expiry, so a crashed request
 * cannot hold budget forever); a reservation is checked and taken in one transaction that, on
 * PostgreSQL, locks each budget's spend row (`SELECT … FOR UPDATE`, in budget-id order so two
 * transactions cannot deadlock), and on SQLite runs under the database's single writer lock. That is
 * what keeps 100 parallel requests, on one replica or several, from overspending.
 */
export class SqlBudgetRepository implements BudgetRepository {
  private reservations = 0;

  constructor(
    private readonly db: Kysely<SqlSchema>,
    private readonly dialect: 'sqlite' | 'postgres',
  ) {}

  async upsert(record: BudgetRecord): Promise<void> {
    const row = {
      id: record.id,
      name: record.name,
      scope_type: record.scope.type,
      scope_value: record.scope.value,
      period: record.period,
      limit_usd: record.limitUsd,
      alerts: JSON.stringify(record.alerts),
      source: record.source,
      created_at: record.createdAt,
    };
    await this.db
      .insertInto('budgets')
      .values(row)
      .onConflict((conflict) =>
        conflict.column('id').doUpdateSet({
          name: row.name,
          scope_type: row.scope_type,
          scope_value: row.scope_value,
          period: row.period,
          limit_usd: row.limit_usd,
          alerts: row.alerts,
          source: row.source,
        }),
      )
      .execute();
  }

  async list(): Promise<BudgetRecord[]> {
    const rows = await this.db.selectFrom('budgets').selectAll().orderBy('name').execute();
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      scope: { type: row.scope_type as BudgetRecord['scope']['type'], value: row.scope_value },
      period: row.period as BudgetRecord['period'],
      limitUsd: Number(row.limit_usd),
      alerts: JSON.parse(row.alerts) as BudgetRecord['alerts'],
      source: row.source as BudgetRecord['source'],
      createdAt: Number(row.created_at),
    }));
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('budgets').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async reserve(
    holdId: string,
    budgets: readonly { budgetId: string; periodStart: number; limitUsd: number }[],
    amountUsd: number,
    now: number,
    expiresAt: number,
  ): Promise<{ exceeded: string | undefined; usage: Record<string, BudgetUsage> }> {
    const usage: Record<string, BudgetUsage> = {};
    if (budgets.length === 0) return { exceeded: undefined, usage };
    const ordered = [...budgets].sort((a, b) => (a.budgetId < b.budgetId ? -1 : a.budgetId > b.budgetId ? 1 : 0));
    if (++this.reservations % 200 === 0) await this.db.deleteFrom('budget_holds').where('expires_at', '<', now).execute();
    return this.db.transaction().execute(async (trx) => {
      let exceeded: string | undefined;
      for (const budget of ordered) {
        const current = await this.lockedUsage(trx, budget.budgetId, budget.periodStart, now);
        usage[budget.budgetId] = current;
        if (exceeded === undefined && current.spentUsd + current.reservedUsd + amountUsd > budget.limitUsd + 1e-12)
          exceeded = budget.budgetId;
      }
      if (exceeded !== undefined) return { exceeded, usage };
      await trx
        .insertInto('budget_holds')
        .values(
          ordered.map((budget) => ({
            id: holdId,
            budget_id: budget.budgetId,
            period_start: budget.periodStart,
            amount_usd: amountUsd,
            expires_at: expiresAt,
          })),
        )
        .execute();
      return { exceeded: undefined, usage };
    });
  }

  async settle(holdId: string, charges: readonly { budgetId: string; periodStart: number }[], costUsd: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('budget_holds').where('id', '=', holdId).execute();
      if (costUsd <= 0) return;
      for (const charge of charges) {
        await trx
          .insertInto('budget_spend')
          .values({ budget_id: charge.budgetId, period_start: charge.periodStart, spent_usd: costUsd })
          .onConflict((conflict) =>
            conflict.columns(['budget_id', 'period_start']).doUpdateSet((eb) => ({
              spent_usd: eb('budget_spend.spent_usd', '+', eb.ref('excluded.spent_usd')),
            })),
          )
          .execute();
      }
    });
  }

  async usage(budgetId: string, periodStart: number, now: number): Promise<BudgetUsage> {
    return readUsage(this.db, budgetId, periodStart, now);
  }

  async markAlert(budgetId: string, periodStart: number, threshold: number, at: number): Promise<boolean> {
    const result = await this.db
      .insertInto('budget_alerts')
      .values({ budget_id: budgetId, period_start: periodStart, threshold, fired_at: at })
      .onConflict((conflict) => conflict.columns(['budget_id', 'period_start', 'threshold']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  private async lockedUsage(trx: Transaction<SqlSchema>, budgetId: string, periodStart: number, now: number): Promise<BudgetUsage> {
    await trx
      .insertInto('budget_spend')
      .values({ budget_id: budgetId, period_start: periodStart, spent_usd: 0 })
      .onConflict((conflict) => conflict.columns(['budget_id', 'period_start']).doNothing())
      .execute();
    if (this.dialect === 'postgres') {
      await trx
        .selectFrom('budget_spend')
        .select('spent_usd')
        .where('budget_id', '=', budgetId)
        .where('period_start', '=', periodStart)
        .forUpdate()
        .execute();
    }
    return readUsage(trx, budgetId, periodStart, now);
  }
}

async function readUsage(db: Kysely<SqlSchema>, budgetId: string, periodStart: number, now: number): Promise<BudgetUsage> {
  const spent = await db
    .selectFrom('budget_spend')
    .select('spent_usd')
    .where('budget_id', '=', budgetId)
    .where('period_start', '=', periodStart)
    .executeTakeFirst();
  const held = await db
    .selectFrom('budget_holds')
    .select((eb) => eb.fn.sum<number>('amount_usd').as('held'))
    .where('budget_id', '=', budgetId)
    .where('period_start', '=', periodStart)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return { spentUsd: Number(spent?.spent_usd ?? 0), reservedUsd: Number(held?.held ?? 0) };
}
