import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll } from 'vitest';
import { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { serviceAvailable, services } from '../support/services.js';
import { storeContract } from './store.contract.js';

const directory = mkdtempSync(join(tmpdir(), 'cb-store-'));
let sqliteFiles = 0;
afterAll(() => rmSync(directory, { recursive: true, force: true }));

// SQLite serves one server process (several replicas need PostgreSQL), so its "second replica" is the
// same store: the concurrency case then checks parallel requests inside that one process.
let currentSqlite: Promise<SqliteStore> | undefined;
storeContract(
  'sqlite',
  async () => (currentSqlite = SqliteStore.open(join(directory, `store-${++sqliteFiles}.db`))),
  async () => {
    const store = await currentSqlite!;
    return Object.create(store, { close: { value: async () => {} } }) as SqliteStore;
  },
);

const postgresUp = await serviceAvailable('postgres');
const schemas: string[] = [];
let currentSchema = '';
afterAll(async () => {
  if (!postgresUp || schemas.length === 0) return;
  const client = new pg.Client({ connectionString: services.postgres.url });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

if (postgresUp) {
  storeContract(
    'postgres',
    async () => {
      currentSchema = `cb_test_${process.pid}_${schemas.length}_${Date.now().toString(36)}`;
      schemas.push(currentSchema);
      return PostgresStore.open(services.postgres.url, { schema: currentSchema });
    },
    async () => PostgresStore.open(services.postgres.url, { schema: currentSchema }),
  );
}
