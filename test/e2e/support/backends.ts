import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { NatsWorkflowStore } from '../../../src/storage/nats/nats-workflow-store.js';
import { serviceAvailable, services } from '../../support/services.js';

/**
 * The storage backends end-to-end suites run against: SQLite always; PostgreSQL (the real server from
 * DATABASE_URL_TEST) when it is up — required in CI. Each `env()` names a fresh schema, so every
 * gateway starts on empty tables; `cleanup()` drops them.
 */
export interface Backend {
  name: 'sqlite' | 'postgres' | 'nats';
  env(): Record<string, string>;
  /** Everything the gateway stored, as text, for secret greps: SQLite files under the data dir, or every PostgreSQL row. */
  dump(dataDir: string, env: Record<string, string>): Promise<string>;
  cleanup(): Promise<void>;
}

const sqlite: Backend = {
  name: 'sqlite',
  env: () => ({}),
  dump: async (dataDir) =>
    filesUnder(dataDir)
      .map((file) => readFileSync(file).toString('latin1'))
      .join('\n'),
  cleanup: async () => {},
};

function postgres(): Backend {
  const schemas: string[] = [];
  return {
    name: 'postgres',
    env: () => {
      const schema = `cb_e2e_${process.pid}_${schemas.length}_${Date.now().toString(36)}`;
      schemas.push(schema);
      return { DATABASE_URL: services.postgres.url, CB_DATABASE_SCHEMA: schema };
    },
    dump: async (dataDir, env) => {
      const client = new pg.Client({ connectionString: services.postgres.url });
      await client.connect();
      try {
        const schema = env['CB_DATABASE_SCHEMA'] as string;
        const tables = await client.query<{ table_name: string }>(
          'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
          [schema],
        );
        let text = filesUnder(dataDir)
          .map((file) => readFileSync(file).toString('latin1'))
          .join('\n');
        for (const { table_name } of tables.rows)
          text += JSON.stringify((await client.query(`SELECT * FROM ${schema}."${table_name}"`)).rows);
        return text;
      } finally {
        await client.end();
      }
    },
    cleanup: async () => {
      if (schemas.length === 0) return;
      const client = new pg.Client({ connectionString: services.postgres.url });
      await client.connect();
      for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}

/** SQLite, plus PostgreSQL when reachable (in CI it must be: `serviceAvailable` throws otherwise). */
export async function backends(): Promise<Backend[]> {
  return (await serviceAvailable('postgres')) ? [sqlite, postgres()] : [sqlite];
}

/**
 * `STORAGE_BACKEND=nats`: workflow state in NATS JetStream under a fresh prefix per gateway (the gateway's
 * own records stay in SQLite under the data dir); `cleanup()` deletes the buckets and streams.
 */
function nats(): Backend {
  const prefixes: string[] = [];
  return {
    name: 'nats',
    env: () => {
      const prefix = `e2e${process.pid}x${prefixes.length}x${Date.now().toString(36)}`;
      prefixes.push(prefix);
      return { STORAGE_BACKEND: 'nats', NATS_URL: services.nats.url, CB_NATS_PREFIX: prefix };
    },
    dump: async (dataDir, env) => {
      const store = await NatsWorkflowStore.open(services.nats.url, { prefix: env['CB_NATS_PREFIX'] as string });
      try {
        return `${filesUnder(dataDir)
          .map((file) => readFileSync(file).toString('latin1'))
          .join('\n')}\n${await store.dump()}`;
      } finally {
        await store.close();
      }
    },
    cleanup: async () => {
      for (const prefix of prefixes.splice(0)) {
        const store = await NatsWorkflowStore.open(services.nats.url, { prefix });
        await store.destroy();
        await store.close();
      }
    },
  };
}

/** The workflow stores end-to-end suites run against: those of `backends()`, plus NATS JetStream when reachable (required in CI). */
export async function workflowBackends(): Promise<Backend[]> {
  return [...(await backends()), ...((await serviceAvailable('nats')) ? [nats()] : [])];
}

function filesUnder(directory: string): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}
