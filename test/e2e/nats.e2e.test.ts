import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppContainer } from '../../src/app/container.js';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/core/logger.js';
import { buildServer } from '../../src/http/server.js';
import { NatsWorkflowStore } from '../../src/storage/nats/nats-workflow-store.js';
import { NatsEventBus } from '../../src/streaming/nats-event-bus.js';
import { refusal } from '../support/unit.js';
import { serviceAvailable, services } from '../support/services.js';

const natsUp = await serviceAvailable('nats');

describe.runIf(natsUp)('the server with NATS_URL set', () => {
  it('carries its events on NATS, to another replica, and reports the bus as ready', async () => {
    const config = loadConfig({ NATS_URL: services.nats.url, CB_DATA_DIR: mkdtempSync(join(tmpdir(), 'cb-nats-bus-')) }, process.cwd());
    const container = await AppContainer.create(config, { logger: silentLogger });
    const app = buildServer(container);
    const replica = await NatsEventBus.connect(services.nats.url);
    try {
      expect(container.events.kind).toBe('nats');
      const ready = await app.inject({ method: 'GET', url: '/ready' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toMatchObject({ ready: true, events: { bus: 'nats', ok: true } });

      const topic = `costs${Math.random().toString(36).slice(2, 8)}`;
      const seen: unknown[] = [];
      replica.subscribe(topic, (message) => seen.push(message.payload));
      await replica.ping();
      await container.events.publish(topic, { usd: 0.5 });
      await expect.poll(() => seen).toEqual([{ usd: 0.5 }]);
    } finally {
      await replica.close();
      await app.close();
      await container.close();
    }
  });

  it('refuses to start when NATS does not answer, naming the server and the fix', async () => {
    const config = loadConfig(
      { NATS_URL: 'nats://cb:hunter2@127.0.0.1:1', CB_DATA_DIR: mkdtempSync(join(tmpdir(), 'cb-nats-bus-')) },
      process.cwd(),
    );
    const error = await refusal(AppContainer.create(config, { logger: silentLogger }));
    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain('Cannot connect to NATS at 127.0.0.1:1');
    expect(error.message).toContain('CB_EVENT_BUS=memory');
    expect(error.message).not.toContain('hunter2');
  });
});

describe.runIf(natsUp)('the server with STORAGE_BACKEND=nats', () => {
  it('keeps workflow state in NATS JetStream and the gateway records in SQLite, and reports both', async () => {
    const prefix = `e${Math.random().toString(36).slice(2, 10)}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'cb-nats-store-'));
    const config = loadConfig(
      { STORAGE_BACKEND: 'nats', NATS_URL: services.nats.url, CB_NATS_PREFIX: prefix, CB_DATA_DIR: dataDir },
      process.cwd(),
    );
    const container = await AppContainer.create(config, { logger: silentLogger });
    const store = container.store.workflows as NatsWorkflowStore;
    try {
      expect(await container.readiness()).toMatchObject({
        ready: true,
        store: { backend: 'nats', ok: true },
        events: { bus: 'nats', ok: true },
      });
      expect(store).toBeInstanceOf(NatsWorkflowStore);
      expect(store.names.instances).toBe(`${prefix}_wf_instances`);
      const definition = { workflowId: 'review', version: 1, definition: {} as never, analysis: {}, createdAt: 1 };
      expect(await store.saveDefinition(definition)).toEqual({ ok: true });
      expect(await container.gatewayKeys.list()).toEqual([]);
      expect(existsSync(join(dataDir, 'circuit-breaker.db'))).toBe(true);
      // Stored rules live in the relational (gateway) store, and guards on NATS-stored workflows resolve through them.
      await container.rules.create({ name: 'big', rule: 'token.data.amount > 100' });
      expect(await container.store.rules.get('big')).toMatchObject({ version: 1 });
      const guarded = {
        id: 'guarded',
        name: 'guarded',
        places: [{ id: 'in' }, { id: 'out' }],
        transitions: [{ id: 'go', inputs: ['in'], outputs: ['out'], trigger: 'manual', guard: { ref: 'big' } }],
        start: 'in',
        end: 'out',
      };
      expect((await container.workflows.catalog.publish(guarded, { kind: 'create' })).ok).toBe(true);
      const unknown = { ...guarded, id: 'unknown', transitions: [{ ...guarded.transitions[0], guard: { ref: 'bigg' } }] };
      expect((await container.workflows.catalog.publish(unknown, { kind: 'create' })).ok).toBe(false);

      // The prefix names the bus subjects too, so deployments sharing a server do not hear each other.
      const same = await NatsEventBus.connect(services.nats.url, { subjectPrefix: `${prefix}.events` });
      const other = await NatsEventBus.connect(services.nats.url);
      const heard: { same: unknown[]; other: unknown[] } = { same: [], other: [] };
      const topic = `costs${prefix}`;
      same.subscribe(topic, (message) => heard.same.push(message.payload));
      other.subscribe(topic, (message) => heard.other.push(message.payload));
      await Promise.all([same.ping(), other.ping()]);
      await container.events.publish(topic, { usd: 1 });
      await expect.poll(() => heard.same).toEqual([{ usd: 1 }]);
      expect(heard.other).toEqual([]);
      await Promise.all([same.close(), other.close()]);
    } finally {
      await container.close();
      const cleanup = await NatsWorkflowStore.open(services.nats.url, { prefix });
      await cleanup.destroy();
      await cleanup.close();
    }
  });

  it('refuses to start when JetStream does not answer, naming the server', async () => {
    const config = loadConfig(
      {
        STORAGE_BACKEND: 'nats',
        NATS_URL: 'nats://127.0.0.1:1',
        CB_EVENT_BUS: 'memory',
        CB_DATA_DIR: mkdtempSync(join(tmpdir(), 'cb-nats-store-')),
      },
      process.cwd(),
    );
    const error = await refusal(AppContainer.create(config, { logger: silentLogger }));
    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain('Cannot open the workflow store on NATS JetStream at 127.0.0.1:1');
  });
});

describe('the server without NATS_URL', () => {
  it('keeps events in process and says so in readiness', async () => {
    const config = loadConfig({ CB_DATA_DIR: mkdtempSync(join(tmpdir(), 'cb-memory-bus-')) }, process.cwd());
    const container = await AppContainer.create(config, { logger: silentLogger });
    try {
      const readiness = await container.readiness();
      expect(readiness).toMatchObject({ ready: true, events: { bus: 'memory', ok: true } });
      expect(readiness.store.backend).toBe('sqlite');
    } finally {
      await container.close();
    }
  });
});
