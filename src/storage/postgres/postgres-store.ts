import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { SqlStore } from '../sql/sql-store.js';
import type { SqlSchema } from '../sql/sql-schema.js';

/** int8 (counts, sums, epoch ms) and numeric as JS numbers: every value we store fits in 2^53. */
const types = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === 20 || oid === 1700 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text'),
};

export interface PostgresStoreOptions {
  /** Schema to use (created when missing); tests use one per run. Default: the connection's search_path. */
  schema?: string;
  /** Pool size (default 10). */
  max?: number;
}

/**
 * The PostgreSQL store (`DATABASE_URL=postgres://…`), for several replicas sharing one database. Same
 * repositories and migrations as SQLite (`sql/`); row locks make budget reservations safe across replicas.
 */
export class PostgresStore extends SqlStore {
  private constructor(db: Kysely<SqlSchema>) {
    super('postgres', db);
  }

  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const schema = options.schema;
    if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`Invalid PostgreSQL schema name '${schema}'.`);
    const pool = new pg.Pool({
      connectionString: url,
      max: options.max ?? 10,
      types,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    if (schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    const store = new PostgresStore(new Kysely<SqlSchema>({ dialect: new PostgresDialect({ pool }) }));
    try {
      await store.migrate(schema);
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }
}
