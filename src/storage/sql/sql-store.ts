import { Migrator } from 'kysely';
import type { Kysely } from 'kysely';
import type { Logger } from '../../core/logger.js';
import type { ModelInfo } from '../../core/models.js';
import type { ModelCacheRepository, Store, StoreBackend } from '../store.js';
import type { UsageJournalWriter } from '../usage-repository.js';
import { SqlAgentRepository } from './sql-agent-repository.js';
import { SqlBudgetRepository } from './sql-budget-repository.js';
import { SqlFunctionRepository } from './sql-function-repository.js';
import { SqlGatewayKeyRepository, SqlProviderKeyRepository } from './sql-key-repository.js';
import { sqlMigrations } from './sql-migrations.js';
import { SqlRuleRepository } from './sql-rule-repository.js';
import type { SqlSchema } from './sql-schema.js';
import { SqlUsageRepository } from './sql-usage-repository.js';
import { SqlWorkflowRepository } from './sql-workflow-repository.js';

/**
 * The repositories both SQL backends share, over one Kysely instance. The backend folders (`sqlite/`,
 * `postgres/`) only build the Kysely dialect and call `open()`; everything else is here, so the two
 * cannot drift (docs/adr/0006-sql-query-builder.md).
 */
export class SqlStore implements Store {
  readonly modelCache: ModelCacheRepository;
  readonly gatewayKeys: SqlGatewayKeyRepository;
  readonly providerKeys: SqlProviderKeyRepository;
  readonly usage: SqlUsageRepository;
  readonly budgets: SqlBudgetRepository;
  readonly agents: SqlAgentRepository;
  readonly workflows: SqlWorkflowRepository;
  readonly functions: SqlFunctionRepository;
  readonly rules: SqlRuleRepository;

  protected constructor(
    readonly backend: StoreBackend,
    protected readonly db: Kysely<SqlSchema>,
    options: { usageJournalWriter?: (logger: Logger) => UsageJournalWriter } = {},
  ) {
    const dialect = backend === 'postgres' ? 'postgres' : 'sqlite';
    this.modelCache = new SqlModelCache(db);
    this.gatewayKeys = new SqlGatewayKeyRepository(db);
    this.providerKeys = new SqlProviderKeyRepository(db);
    this.usage = new SqlUsageRepository(db, options.usageJournalWriter);
    this.budgets = new SqlBudgetRepository(db, dialect);
    this.agents = new SqlAgentRepository(db);
    this.workflows = new SqlWorkflowRepository(db);
    this.functions = new SqlFunctionRepository(db);
    this.rules = new SqlRuleRepository(db);
  }

  /**
   * Applies pending migrations; throws with the failing migration's name and error. `schema` names the
   * PostgreSQL schema of Kysely's bookkeeping tables when it is not the default one.
   */
  protected async migrate(schema?: string): Promise<void> {
    const migrator = new Migrator({ db: this.db, provider: sqlMigrations, ...(schema ? { migrationTableSchema: schema } : {}) });
    let { error, results } = await migrator.migrateToLatest();
    // Kysely's migrator introspects every schema of the database; a schema another client drops at that
    // moment fails the read with 3F000 (invalid_schema_name). That is not about ours: read again.
    for (let attempt = 0; attempt < 3 && error && droppedElsewhere(error, schema); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50 * (attempt + 1)));
      ({ error, results } = await migrator.migrateToLatest());
    }
    if (error) {
      const failed = results?.find((result) => result.status === 'Error')?.migrationName ?? 'unknown';
      throw new Error(`Database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  async ping(): Promise<void> {
    await this.db.selectFrom('discovered_models').select('provider').limit(1).execute();
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

/** Whether a migration failed only because some other schema vanished while it was being introspected. */
function droppedElsewhere(error: unknown, schema: string | undefined): boolean {
  if (typeof error !== 'object' || error === null || (error as { code?: unknown }).code !== '3F000') return false;
  const message = error instanceof Error ? error.message : '';
  return schema === undefined || !message.includes(`"${schema}"`);
}

class SqlModelCache implements ModelCacheRepository {
  constructor(private readonly db: Kysely<SqlSchema>) {}

  async save(provider: string, models: readonly ModelInfo[], at: number): Promise<void> {
    const row = { provider, models: JSON.stringify(models), discovered_at: at };
    await this.db
      .insertInto('discovered_models')
      .values(row)
      .onConflict((conflict) => conflict.column('provider').doUpdateSet({ models: row.models, discovered_at: row.discovered_at }))
      .execute();
  }

  async load(provider: string): Promise<{ models: ModelInfo[]; at: number } | undefined> {
    const row = await this.db.selectFrom('discovered_models').selectAll().where('provider', '=', provider).executeTakeFirst();
    if (!row) return undefined;
    return { models: JSON.parse(row.models) as ModelInfo[], at: Number(row.discovered_at) };
  }
}
