import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { ModelInfo } from '../../core/models.js';
import type { ModelCacheRepository, Store } from '../store.js';
import { migrate } from './migrations.js';

/**
 * The embedded default store: one SQLite file (WAL mode, synchronous=NORMAL, foreign keys on) under the
 * data directory. better-sqlite3 is synchronous; its calls are short and run on the main thread.
 */
export class SqliteStore implements Store {
  readonly backend = 'sqlite' as const;
  readonly modelCache: ModelCacheRepository;
  private readonly database: Database.Database;

  constructor(readonly file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.database = new Database(file);
    this.database.pragma('journal_mode = WAL');
    this.database.pragma('synchronous = NORMAL');
    this.database.pragma('foreign_keys = ON');
    this.database.pragma('busy_timeout = 5000');
    migrate(this.database);
    this.modelCache = new SqliteModelCache(this.database);
  }

  async ping(): Promise<void> {
    this.database.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.database.open) this.database.close();
  }
}

class SqliteModelCache implements ModelCacheRepository {
  private readonly upsert: Database.Statement<[string, string, number]>;
  private readonly select: Database.Statement<[string], { models: string; discovered_at: number }>;

  constructor(database: Database.Database) {
    this.upsert = database.prepare(
      'INSERT INTO discovered_models (provider, models, discovered_at) VALUES (?, ?, ?) ON CONFLICT (provider) DO UPDATE SET models = excluded.models, discovered_at = excluded.discovered_at',
    );
    this.select = database.prepare('SELECT models, discovered_at FROM discovered_models WHERE provider = ?');
  }

  async save(provider: string, models: readonly ModelInfo[], at: number): Promise<void> {
    this.upsert.run(provider, JSON.stringify(models), at);
  }

  async load(provider: string): Promise<{ models: ModelInfo[]; at: number } | undefined> {
    const row = this.select.get(provider);
    if (!row) return undefined;
    return { models: JSON.parse(row.models) as ModelInfo[], at: row.discovered_at };
  }
}
