import type { Kysely, Selectable } from 'kysely';
import type { RuleRepository, StoredRule, StoredRuleBody } from '../rule-repository.js';
import type { SqlSchema } from './sql-schema.js';

type RuleRow = Selectable<SqlSchema['rule_versions']>;

/**
 * Rule versions over Kysely (SQLite and PostgreSQL): one row per (name, version), the body as JSON
 * text. The next version is taken as latest + 1 and inserted with "do nothing on conflict"; a save that
 * lost a race to the same number tries the next one.
 */
export class SqlRuleRepository implements RuleRepository {
  constructor(private readonly db: Kysely<SqlSchema>) {}

  async addVersion(input: { name: string; rule: StoredRuleBody; description: string | null; createdAt: number }): Promise<StoredRule> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const latest = await this.db
        .selectFrom('rule_versions')
        .select('version')
        .where('name', '=', input.name)
        .orderBy('version', 'desc')
        .limit(1)
        .executeTakeFirst();
      const version = (latest === undefined ? 0 : Number(latest.version)) + 1;
      const inserted = await this.db
        .insertInto('rule_versions')
        .values({
          name: input.name,
          version,
          body: JSON.stringify(input.rule),
          description: input.description,
          created_at: input.createdAt,
        })
        .onConflict((conflict) => conflict.columns(['name', 'version']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return { ...input, version };
    }
    throw new Error(`rule '${input.name}' is being saved by too many writers at once; save it again`);
  }

  async get(name: string, version?: number): Promise<StoredRule | undefined> {
    let query = this.db.selectFrom('rule_versions').selectAll().where('name', '=', name);
    query = version === undefined ? query.orderBy('version', 'desc').limit(1) : query.where('version', '=', version);
    const row = await query.executeTakeFirst();
    return row && toStored(row);
  }

  async versions(name: string): Promise<StoredRule[]> {
    const rows = await this.db.selectFrom('rule_versions').selectAll().where('name', '=', name).orderBy('version').execute();
    return rows.map(toStored);
  }

  async listAll(): Promise<StoredRule[]> {
    const rows = await this.db.selectFrom('rule_versions').selectAll().orderBy('name').orderBy('version').execute();
    return rows.map(toStored);
  }
}

function toStored(row: RuleRow): StoredRule {
  return {
    name: row.name,
    version: Number(row.version),
    rule: JSON.parse(row.body) as StoredRuleBody,
    description: row.description,
    createdAt: Number(row.created_at),
  };
}
