import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { describe, expect, it } from 'vitest';
import { NatsWorkflowStore } from '../../src/storage/nats/nats-workflow-store.js';
import { serviceAvailable, services } from '../support/services.js';
import { tsxLoader } from './support/gateway-process.js';

const natsUp = await serviceAvailable('nats');
const worker = join(import.meta.dirname, 'support/nats-firing-worker.ts');

function startWorker(args: string[]): { child: ChildProcess; lines: AsyncIterableIterator<string> } {
  const child = spawn(process.execPath, ['--import', tsxLoader, worker, services.nats.url, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return { child, lines: createInterface({ input: child.stdout! })[Symbol.asyncIterator]() };
}

async function killed(child: ChildProcess): Promise<void> {
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGKILL');
  await exited;
}

/** The instance after recovery: one live token, every firing's events exactly once, its action queued once, one timer. */
async function expectIntact(store: NatsWorkflowStore, id: string, landed: number): Promise<number> {
  const instance = await store.getInstance(id);
  const revision = instance?.revision ?? 0;
  // Every commit the dead process saw land is there; one more may have landed after its last line.
  expect(revision).toBeGreaterThanOrEqual(landed);
  expect(instance?.tokens.map((token) => token.id)).toEqual([`${id}:t${revision}`]);
  const events = await store.readEvents(id, { limit: 100_000 });
  const firings = revision - 1;
  expect(events.map((event) => event.sequence)).toEqual(Array.from({ length: 1 + 2 * firings }, (_, index) => index + 1));
  const transitions = events.filter((event) => event.type === 'WORKFLOW_TRANSITION').map((event) => event.firingId);
  expect(transitions).toEqual(Array.from({ length: firings }, (_, index) => `${id}:f${index + 1}`));
  for (let step = 1; step <= firings; step++)
    expect((await store.getOutbox(`${id}:f${step}`))?.status, `${id}:f${step}`).toBe(step === firings ? 'pending' : 'done');
  const timers = (await store.dueTimers(Number.MAX_SAFE_INTEGER, 10_000)).filter((timer) => timer.instanceId === id);
  expect(timers.map((timer) => timer.id)).toEqual(firings > 0 ? [`${id}:timer${firings}`] : []);
  return events.length;
}

describe.runIf(natsUp)('NATS workflow store: SIGKILL in the middle of firings', () => {
  it('loses no token, event, action or timer and doubles none, over three kills, and carries on after', async () => {
    const prefix = `k${randomUUID().slice(0, 8)}`;
    const store = await NatsWorkflowStore.open(services.nats.url, { prefix });
    const raw = await connect({ servers: services.nats.url });
    const ids = Array.from({ length: 4 }, (_, index) => `wi_crash${index}`);
    try {
      for (const id of ids) {
        const created = await store.createInstance({
          instance: {
            id,
            workflowId: 'crash',
            version: 1,
            status: 'running',
            marking: { p0: 1 },
            variables: {},
            metadata: {},
            error: undefined,
            createdAt: 1,
            updatedAt: 1,
          },
          tokens: [
            { id: `${id}:t1`, instanceId: id, place: 'p0', data: {}, metadata: {}, createdBy: undefined, parents: [], createdAt: 1 },
          ],
          events: [{ type: 'INSTANCE_CREATED', at: 1, data: {} }],
        });
        expect(created.ok).toBe(true);
      }
      const landed = new Map(ids.map((id) => [id, 1]));
      const markers = await new Kvm(raw).open(store.names.instances);
      for (let round = 0; round < 3; round++) {
        const { child, lines } = startWorker([prefix, ids.join(',')]);
        const stopAfter = 15 + Math.floor(Math.random() * 30);
        for (let seen = 0; seen < stopAfter; seen++) {
          const line = await lines.next();
          if (line.done) throw new Error('the worker stopped by itself');
          const { id, revision } = JSON.parse(line.value) as { id: string; revision: number };
          landed.set(id, Math.max(revision, landed.get(id) ?? 0));
        }
        // The four firing loops run in step and print together; a random pause lands the kill anywhere in
        // the next commits (reads, the marker, the CAS, the effects) rather than always right after a print.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 25));
        await killed(child);
        const interrupted: string[] = [];
        for await (const key of await markers.keys('m.*')) if ((await markers.get(key))?.operation === 'PUT') interrupted.push(key);
        console.info(`round ${round}: killed after ${stopAfter} commits; ${interrupted.length} commit(s) left with pending effects`);

        const restarted = await NatsWorkflowStore.open(services.nats.url, { prefix });
        let events = 0;
        for (const id of ids) events += await expectIntact(restarted, id, landed.get(id)!);
        // No duplicate anywhere in the stream either: it holds exactly the events the instances account for.
        expect((await (await jetstreamManager(raw)).streams.info(store.names.stream)).state.messages).toBe(events);
        await restarted.close();
      }
    } finally {
      await store.destroy();
      await store.close();
      await raw.close();
    }
  }, 60_000);

  it('lets exactly one of two processes win the same firing', async () => {
    const prefix = `r${randomUUID().slice(0, 8)}`;
    const store = await NatsWorkflowStore.open(services.nats.url, { prefix });
    const id = 'wi_race';
    try {
      await store.createInstance({
        instance: {
          id,
          workflowId: 'crash',
          version: 1,
          status: 'running',
          marking: { p0: 1 },
          variables: {},
          metadata: {},
          error: undefined,
          createdAt: 1,
          updatedAt: 1,
        },
        tokens: [{ id: `${id}:t1`, instanceId: id, place: 'p0', data: {}, metadata: {}, createdBy: undefined, parents: [], createdAt: 1 }],
        events: [{ type: 'INSTANCE_CREATED', at: 1, data: {} }],
      });
      const racers = [startWorker([prefix, id, 'race', '1']), startWorker([prefix, id, 'race', '1'])];
      for (const racer of racers) expect(JSON.parse((await racer.lines.next()).value as string)).toEqual({ ready: true });
      for (const racer of racers) racer.child.stdin!.write('go\n');
      const results = await Promise.all(
        racers.map(
          async (racer) => (JSON.parse((await racer.lines.next()).value as string) as { result: { ok: boolean; reason?: string } }).result,
        ),
      );
      expect(results.filter((result) => result.ok)).toHaveLength(1);
      expect(results.find((result) => !result.ok)).toMatchObject({ ok: false, reason: 'conflict' });
      const instance = await store.getInstance(id);
      expect(instance?.revision).toBe(2);
      expect(instance?.tokens.map((token) => token.id)).toEqual([`${id}:t2`]);
      expect((await store.readEvents(id)).map((event) => event.sequence)).toEqual([1, 2, 3]);
    } finally {
      await store.destroy();
      await store.close();
    }
  }, 90_000);
});
