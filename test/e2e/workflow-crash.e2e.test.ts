import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { workflowStores } from './support/workflow-stores.js';
import { startGateway } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';

/**
 * Durability: the server is killed with SIGKILL while instances are in the middle of slow actions;
 * after a restart on the same store every instance completes, with no token lost or duplicated and
 * no action output applied twice (actions may run again — at least once — but each firing is applied
 * once, and no firing is made twice).
 */
const entry = resolve(import.meta.dirname, 'support/workflow-server.ts');
const instances = 8;
const actionsPerInstance = 3;

const net = {
  id: 'crashy',
  name: 'Crash test',
  places: ['received', 'one', 'b1', 'b2', 'left', 'right', 'done'].map((id) => ({ id })),
  transitions: [
    { id: 'first', inputs: ['received'], outputs: ['one'], action: { function: { name: 'first', delayMs: 200 } } },
    { id: 'split', inputs: ['one'], outputs: ['b1', 'b2'] },
    { id: 'go-left', inputs: ['b1'], outputs: ['left'], action: { function: { name: 'goLeft', delayMs: 250 } } },
    { id: 'go-right', inputs: ['b2'], outputs: ['right'], action: { function: { name: 'goRight', delayMs: 300 } } },
    { id: 'join', inputs: ['left', 'right'], outputs: ['done'] },
  ],
  start: 'received',
  end: 'done',
};

interface Event {
  sequence: number;
  type: string;
  firingId?: string;
  data: Record<string, unknown> & { token?: { id: string; place: string } };
}

for (const backend of await workflowStores({ nats: process.env['CB_E2E_NATS_CRASH'] !== '0' })) {
  describe(`workflow durability across SIGKILL (${backend.name})`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cb-crash-'));
    const actions = mkdtempSync(join(tmpdir(), 'cb-crash-actions-'));
    const env = { ...backend.env(), CB_TEST_ACTIONS_DIR: actions, CB_WORKFLOW_POLL_MS: '50', CB_WORKFLOW_LEASE_MS: '1500' };
    let gateway: GatewayProcess | undefined;
    afterAll(async () => {
      await gateway?.stop();
      await backend.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(actions, { recursive: true, force: true });
    });
    const call = async (path: string, body?: unknown) => {
      const response = await fetch(
        `${gateway!.url}${path}`,
        body === undefined ? {} : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } },
      );
      return (await response.json()) as Record<string, unknown>;
    };
    const executions = () =>
      existsSync(join(actions, 'executions.log'))
        ? readFileSync(join(actions, 'executions.log'), 'utf8')
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as { firingId: string; pid: number })
        : [];

    it('completes every instance after a restart, exactly once', async () => {
      gateway = await startGateway({ entry, env, dataDir });
      expect((await call('/api/v1/workflows', net))['version']).toBe(1);
      const ids: string[] = [];
      for (let index = 0; index < instances; index++)
        ids.push((await call('/api/v1/workflows/crashy/instances', { initialData: { index } }))['id'] as string);

      const deadline = Date.now() + 20_000;
      while (executions().length < instances + 2 && Date.now() < deadline) await new Promise((done) => setTimeout(done, 20));
      const beforeKill = executions().length;
      if (beforeKill === 0) throw new Error(`no action ran in 20 s; server log:\n${gateway.logs.slice(-20).join('\n')}`);
      expect(beforeKill).toBeLessThan(instances * actionsPerInstance);
      const killedPid = gateway.process.pid;
      const exited = new Promise((done) => gateway!.process.once('exit', done));
      gateway.process.kill('SIGKILL');
      await exited;

      gateway = await startGateway({ entry, env, dataDir });
      const finished = Date.now() + 45_000;
      let statuses: string[] = [];
      while (Date.now() < finished) {
        statuses = await Promise.all(ids.map(async (id) => (await call(`/api/v1/workflows/instances/${id}`))['status'] as string));
        if (statuses.every((status) => status === 'completed')) break;
        await new Promise((done) => setTimeout(done, 100));
      }
      const unfinished = await Promise.all(
        ids.filter((_, index) => statuses[index] !== 'completed').map((id) => call(`/api/v1/workflows/instances/${id}`)),
      );
      expect(unfinished.map((instance) => [instance['status'], instance['error'], instance['marking']])).toEqual([]);

      const runs = executions();
      expect(runs.some((run) => run.pid === killedPid)).toBe(true);
      expect(runs.some((run) => run.pid !== killedPid)).toBe(true);
      const firingsRun = new Set(runs.map((run) => run.firingId));
      expect(firingsRun.size).toBe(instances * actionsPerInstance);
      // The kill came while actions were running: those ran again after the restart (at least once)...
      expect(runs.length).toBeGreaterThan(firingsRun.size);

      const allTokenIds = new Set<string>();
      for (const id of ids) {
        const instance = await call(`/api/v1/workflows/instances/${id}`);
        const tokens = instance['tokens'] as { place: string; data: Record<string, unknown> }[];
        expect(tokens.map((token) => token.place)).toEqual(['done']);
        expect(tokens[0]?.data).toMatchObject({ first: 'done', goLeft: 'done', goRight: 'done' });
        const history = (await call(`/api/v1/workflows/instances/${id}/history`))['data'] as Event[];
        expect(history.map((event) => event.sequence)).toEqual(history.map((_, index) => index + 1));
        const started = history.filter((event) => event.type === 'ACTION_STARTED').map((event) => event.firingId);
        const completed = history.filter((event) => event.type === 'ACTION_COMPLETED').map((event) => event.firingId);
        expect(started).toHaveLength(actionsPerInstance);
        // ...but each firing's output was applied once.
        expect([...completed].sort()).toEqual([...started].sort());
        for (const firingId of started) expect(firingsRun.has(firingId!)).toBe(true);
        expect(history.filter((event) => event.type === 'WORKFLOW_TRANSITION')).toHaveLength(5);
        expect(history.filter((event) => event.type === 'COMPLETION')).toHaveLength(1);
        const created = history.filter((event) => event.type === 'TOKEN_CREATED').map((event) => event.data.token!.id);
        expect(new Set(created).size).toBe(created.length);
        for (const token of created) {
          expect(allTokenIds.has(token)).toBe(false);
          allTokenIds.add(token);
        }
        // received, one, b1, b2, left, right, done: one token each.
        expect(created).toHaveLength(7);
      }
    }, 120_000);
  });
}

/**
 * The real server (no test executor): a JavaScript function runs as the action of two transitions, and
 * a durable timer sits between them. The server is killed while every instance's timer is pending;
 * after the restart each timer fires once and each firing's function execution is recorded once.
 */
const timed = {
  id: 'timed_crash',
  name: 'Timer across a crash',
  places: ['received', 'stamped', 'woke', 'done'].map((id) => ({ id })),
  transitions: [
    { id: 'stamp', inputs: ['received'], outputs: ['stamped'], action: { function: 'crash_stamp' } },
    { id: 'wake', inputs: ['stamped'], outputs: ['woke'], trigger: { timer: { after: '3s' } } },
    { id: 'restamp', inputs: ['woke'], outputs: ['done'], action: { function: 'crash_stamp' } },
  ],
  start: 'received',
  end: 'done',
};

describe('a pending timer and a real function action across SIGKILL (sqlite)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cb-crash-timer-'));
  const env = { CB_WORKFLOW_POLL_MS: '50', CB_WORKFLOW_LEASE_MS: '1500' };
  let gateway: GatewayProcess | undefined;
  afterAll(async () => {
    await gateway?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const call = async (path: string, body?: unknown) => {
    const response = await fetch(
      `${gateway!.url}${path}`,
      body === undefined ? {} : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } },
    );
    return (await response.json()) as Record<string, unknown>;
  };

  it('fires each pending timer once after the restart, each function firing recorded once', async () => {
    gateway = await startGateway({ env, dataDir });
    const registered = await call('/api/v1/functions', {
      name: 'crash_stamp',
      runtime: 'javascript',
      code: 'return { stamps: (input.stamps ?? 0) + 1 };',
    });
    expect(registered['version']).toBe(1);
    expect((await call('/api/v1/workflows', timed))['version']).toBe(1);
    const ids: string[] = [];
    for (let index = 0; index < 4; index++)
      ids.push((await call('/api/v1/workflows/timed_crash/instances', { initialData: { index } }))['id'] as string);

    // Every instance stamped once, its timer pending: kill now.
    const deadline = Date.now() + 20_000;
    let markings: Record<string, number>[] = [];
    while (Date.now() < deadline) {
      markings = await Promise.all(
        ids.map(async (id) => (await call(`/api/v1/workflows/instances/${id}`))['marking'] as Record<string, number>),
      );
      if (markings.every((marking) => marking['stamped'] === 1)) break;
      await new Promise((done) => setTimeout(done, 20));
    }
    expect(markings).toEqual(ids.map(() => ({ stamped: 1 })));
    const exited = new Promise((done) => gateway!.process.once('exit', done));
    gateway.process.kill('SIGKILL');
    await exited;

    gateway = await startGateway({ env, dataDir });
    const finished = Date.now() + 30_000;
    let statuses: string[] = [];
    while (Date.now() < finished) {
      statuses = await Promise.all(ids.map(async (id) => (await call(`/api/v1/workflows/instances/${id}`))['status'] as string));
      if (statuses.every((status) => status === 'completed')) break;
      await new Promise((done) => setTimeout(done, 100));
    }
    expect(statuses).toEqual(ids.map(() => 'completed'));

    const records = (await call('/api/v1/functions/crash_stamp/executions?limit=500'))['data'] as {
      instance_id: string;
      status: string;
      trigger: { kind: string; detail: string };
    }[];
    for (const id of ids) {
      const instance = await call(`/api/v1/workflows/instances/${id}`);
      const tokens = instance['tokens'] as { place: string; data: Record<string, unknown> }[];
      expect(tokens).toEqual([expect.objectContaining({ place: 'done', data: expect.objectContaining({ stamps: 2 }) })]);
      const history = (await call(`/api/v1/workflows/instances/${id}/history`))['data'] as Event[];
      const fired = history.filter((event) => event.type === 'WORKFLOW_TRANSITION').map((event) => event.data['transitionId']);
      expect(fired).toEqual(['stamp', 'wake', 'restamp']);
      const own = records.filter((record) => record.instance_id === id);
      expect(own.map((record) => [record.trigger.detail, record.status]).sort()).toEqual([
        ['restamp', 'completed'],
        ['stamp', 'completed'],
      ]);
    }
  }, 120_000);
});
