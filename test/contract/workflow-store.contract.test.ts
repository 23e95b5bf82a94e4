import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll } from 'vitest';
import { MemoryWorkflowRepository } from '../../src/storage/memory/memory-workflow-repository.js';
import { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { serviceAvailable, services } from '../support/services.js';
import { workflowStoreContract } from './workflow-store.contract.js';

workflowStoreContract('memory', async () => ({ repository: new MemoryWorkflowRepository(), close: async () => {} }));

const directory = mkdtempSync(join(tmpdir(), 'cb-workflow-store-'));
let files = 0;
afterAll(() => rmSync(directory, { recursive: true, force: true }));

// better-sqlite3 waits for a lock synchronously, so two connections in ONE process would block each
// other; the second "replica" is the same store here, and two processes on one file are covered by
// test/e2e/workflow-concurrency.e2e.test.ts.
workflowStoreContract('sqlite', async () => {
  const store = await SqliteStore.open(join(directory, `workflows-${++files}.db`));
  return { repository: store.workflows, close: () => store.close() };
});

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
  workflowStoreContract('postgres', async () => {
    const schema = `cb_wf_${process.pid}_${schemas.length}_${Date.now().toString(36)}`;
    schemas.push(schema);
    const store = await PostgresStore.open(services.postgres.url, { schema });
    const second = await PostgresStore.open(services.postgres.url, { schema });
    return {
      repository: store.workflows,
      second: second.workflows,
      close: async () => {
        await second.close();
        await store.close();
      },
    };
  });
}
