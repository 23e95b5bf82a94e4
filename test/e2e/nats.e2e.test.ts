import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppContainer } from '../../src/app/container.js';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/core/logger.js';
import { buildServer } from '../../src/http/server.js';
import type { NatsWorkflowStore } from '../../src/storage/nats/nats-workflow-store.js';
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
    const store = container.workflowStorage?.repository as NatsWorkflowStore | undefined;
    try {
      expect(await container.readiness()).toMatchObject({
        ready: true,
        store: { backend: 'sqlite', ok: true },
        events: { bus: 'nats', ok: true },
        workflows: { backend: 'nats', ok: true },
      });
      expect(store?.names.instances).toBe(`${prefix}_wf_instances`);
      const definition = { workflowId: 'review', version: 1, definition: {} as never, analysis: {}, createdAt: 1 };
      expect(await store?.saveDefinition(definition)).toEqual({ ok: true });
      expect(await container.gatewayKeys.list()).toEqual([]);
      expect(existsSync(join(dataDir, 'circuit-breaker.db'))).toBe(true);
    } finally {
      await store?.destroy();
      await container.close();
    }
  });
});

describe('the server without NATS_URL', () => {
  it('keeps events in process and says so in readiness', async () => {
    const config = loadConfig({ CB_DATA_DIR: mkdtempSync(join(tmpdir(), 'cb-memory-bus-')) }, process.cwd());
    const container = await AppContainer.create(config, { logger: silentLogger });
    try {
      const readiness = await container.readiness();
      expect(readiness).toMatchObject({ ready: true, events: { bus: 'memory', ok: true } });
      expect(readiness.workflows).toBeUndefined();
      expect(container.workflowStorage).toBeUndefined();
    } finally {
      await container.close();
    }
  });
});
