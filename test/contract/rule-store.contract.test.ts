import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll } from 'vitest';
import { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { serviceAvailable, services } from '../support/services.js';
import { ruleStoreContract } from './rule-store.contract.js';

const directory = mkdtempSync(join(tmpdir(), 'cb-rule-store-'));
let files = 0;
afterAll(() => rmSync(directory, { recursive: true, force: true }));

ruleStoreContract('sqlite', () => SqliteStore.open(join(directory, `rules-${++files}.db`)));

const postgresUp = await serviceAvailable('postgres');
const schemas: string[] = [];
afterAll(async () => {
  if (!postgresUp || schemas.length === 0) return;
  const client = new pg.Client({ connectionString: services.postgres.url });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

if (postgresUp) {
  ruleStoreContract('postgres', async () => {
    const schema = `cb_rules_${process.pid}_${schemas.length}_${Date.now().toString(36)}`;
    schemas.push(schema);
    return PostgresStore.open(services.postgres.url, { schema });
  });
}
