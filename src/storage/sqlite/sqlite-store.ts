import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { SqlStore } from '../sql/sql-store.js';
import type { SqlSchema } from '../sql/sql-schema.js';
import { SqliteJournalWriter } from './sqlite-journal-writer.js';

/**
 * The embedded default store: one SQLite file (WAL mode, synchronous=NORMAL, foreign keys on) under the
 * data directory, through Kysely over better-sqlite3. A committed transaction survives a crash of the
 * process (WAL is in the OS page cache); `synchronous=NORMAL` trades the last transactions on a power
 * loss for speed, as most embedded servers do. For a file (not `:memory:`, which one thread alone can
 * see), the usage ledger's inserts run on a worker thread with its own connection
 * (`sqlite-journal-writer.ts`, docs/adr/0015-ledger-writer-thread.md).
 */
export class SqliteStore extends SqlStore {
  private constructor(
    readonly file: string,
    db: Kysely<SqlSchema>,
  ) {
    super('sqlite', db, file === ':memory:' ? {} : { usageJournalWriter: (logger) => new SqliteJournalWriter(file, logger) });
  }

  static async open(file: string): Promise<SqliteStore> {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const database = new Database(file);
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 5000');
    const store = new SqliteStore(file, new Kysely<SqlSchema>({ dialect: new SqliteDialect({ database }) }));
    await store.migrate();
    return store;
  }
}
