import type Database from 'better-sqlite3';

/**
 * Schema migrations, applied in order, each once, inside a transaction; `schema_migrations` records
 * which ran. Add new ones at the end; never edit one that has shipped.
 */
const migrations: { id: number; name: string; sql: string }[] = [
  {
    id: 1,
    name: 'discovered models',
    sql: `CREATE TABLE discovered_models (
            provider TEXT PRIMARY KEY,
            models TEXT NOT NULL,
            discovered_at INTEGER NOT NULL
          )`,
  },
];

export function migrate(database: Database.Database): void {
  database.exec('CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const applied = new Set(
    database
      .prepare('SELECT id FROM schema_migrations')
      .all()
      .map((row) => (row as { id: number }).id),
  );
  for (const migration of migrations) {
    if (applied.has(migration.id)) continue;
    database.transaction(() => {
      database.exec(migration.sql);
      database
        .prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)')
        .run(migration.id, migration.name, Date.now());
    })();
  }
}
