import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll } from 'vitest';
import { PostgresStore } from '../../../src/storage/postgres/postgres-store.js';
import { SqliteStore } from '../../../src/storage/sqlite/sqlite-store.js';
import { serviceAvailable, services } from '../../support/services.js';

/**
 * Fresh stores for a contract test file: each SQLite store in its own file under one temporary
 * directory, each PostgreSQL store in its own schema (`<prefix>_<pid>_<n>_<time>`), all removed after
 * the file. `postgres` is undefined when PostgreSQL is down outside CI (serviceAvailable fails in CI).
 */
export async function testStores(prefix: string): Promise<{
  sqlite: () => Promise<SqliteStore>;
  postgres: (() => Promise<PostgresStore>) | undefined;
}> {
  const directory = mkdtempSync(join(tmpdir(), `cb-${prefix}-`));
  let files = 0;
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  const sqlite = () => SqliteStore.open(join(directory, `${prefix}-${++files}.db`));

  if (!(await serviceAvailable('postgres'))) return { sqlite, postgres: undefined };
  const schemas: string[] = [];
  afterAll(async () => {
    if (schemas.length === 0) return;
    const client = new pg.Client({ connectionString: services.postgres.url });
    await client.connect();
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });
  const postgres = () => {
    const schema = `cb_${prefix}_${process.pid}_${schemas.length}_${Date.now().toString(36)}`;
    schemas.push(schema);
    return PostgresStore.open(services.postgres.url, { schema });
  };
  return { sqlite, postgres };
}
