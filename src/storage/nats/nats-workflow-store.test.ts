import { randomUUID } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeClock } from '../../../test/support/unit.js';
import { serviceAvailable, services } from '../../../test/support/services.js';
import type { Token } from '../../engine/workflow-instance.js';
import type { InstanceCommit } from '../workflow-repository.js';
import type { InstanceRecord } from './instance-record.js';
import { applyCommit } from './instance-record.js';
import { token } from './nats-names.js';
import { NatsWorkflowStore } from './nats-workflow-store.js';
import { PendingEffects } from './pending-effects.js';

const natsUp = await serviceAvailable('nats');

describe.runIf(natsUp)('NATS workflow store: a process that dies between the commit and its effects', () => {
  const opened: NatsWorkflowStore[] = [];
  let raw: NatsConnection | undefined;
  afterEach(async () => {
    const [first] = opened;
    for (const store of opened.splice(0).reverse()) {
      if (store === first) await store.destroy();
      await store.close();
    }
    await raw?.close();
    raw = undefined;
  });

  async function open(prefix: string, clock = fakeClock(1_000_000)): Promise<NatsWorkflowStore> {
    const store = await NatsWorkflowStore.open(services.nats.url, { prefix, clock });
    opened.push(store);
    return store;
  }

  /** Does what `commit` does up to the compare-and-set on the instance, and stops there, as a SIGKILL would. */
  async function commitThenDie(store: NatsWorkflowStore, change: InstanceCommit, clock = fakeClock(1_000_000)): Promise<void> {
    raw ??= await connect({ servers: services.nats.url });
    const kv = await new Kvm(raw).open(store.names.instances);
    const key = `i.${token(change.instanceId)}`;
    const entry = await kv.get(key);
    const result = applyCommit(entry!.json<InstanceRecord>(), change, undefined);
    if ('reason' in result) throw new Error(result.message);
    const markers = new PendingEffects(kv, clock);
    expect(await markers.set(change.instanceId, result.record.instance.revision, await markers.read(change.instanceId))).toBeDefined();
    await kv.update(key, JSON.stringify(result.record), entry!.revision);
  }

  async function started(store: NatsWorkflowStore): Promise<string> {
    const id = `wi_${randomUUID().slice(0, 8)}`;
    const created = await store.createInstance({
      instance: {
        id,
        workflowId: 'wf',
        version: 1,
        status: 'running',
        marking: { start: 1 },
        variables: {},
        metadata: {},
        error: undefined,
        createdAt: 1,
        updatedAt: 1,
      },
      tokens: [tokenIn(id, 't1', 'start')],
      events: [{ type: 'INSTANCE_CREATED', at: 1, data: {} }],
    });
    expect(created.ok).toBe(true);
    return id;
  }

  function firing(id: string, expectedRevision: number, firingId: string, extra: Partial<InstanceCommit> = {}): InstanceCommit {
    return {
      instanceId: id,
      expectedRevision,
      status: 'running',
      marking: { busy: 1 },
      variables: {},
      consume: expectedRevision === 1 ? ['t1'] : [],
      produce: expectedRevision === 1 ? [tokenIn(id, 't2', 'busy')] : [],
      events: [
        { type: 'WORKFLOW_TRANSITION', firingId, at: 2, data: {} },
        { type: 'ACTION_STARTED', firingId, at: 2, data: {} },
      ],
      ...extra,
    };
  }

  const action = (id: string, firingId: string) => ({
    firingId,
    instanceId: id,
    workflowId: 'wf',
    transitionId: 'review',
    action: { agent: 'reviewer' },
    input: { tokens: [], variables: {}, data: {} },
    availableAt: 0,
  });

  it('is completed at the next start: the action is queued, the timer set, the events logged once', async () => {
    const prefix = `t${randomUUID().slice(0, 8)}`;
    const store = await open(prefix);
    const id = await started(store);
    const timer = { id: `${id}:expire`, instanceId: id, workflowId: 'wf', transitionId: 'expire', dueAt: 500 };
    await commitThenDie(store, firing(id, 1, 'f1', { enqueue: [action(id, 'f1')], schedule: [timer] }));
    // What the dead process left: the firing landed, its effects did not.
    expect((await store.getInstance(id))?.revision).toBe(2);
    expect(await store.getOutbox('f1')).toBeUndefined();

    const restarted = await open(prefix);
    expect(await restarted.getOutbox('f1')).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await restarted.dueTimers(1000, 10)).toEqual([timer]);
    expect((await restarted.readEvents(id)).map((event) => [event.sequence, event.type])).toEqual([
      [1, 'INSTANCE_CREATED'],
      [2, 'WORKFLOW_TRANSITION'],
      [3, 'ACTION_STARTED'],
    ]);
    // Repairing again (every claim does) changes nothing: no second copy of anything.
    await restarted.recover();
    await restarted.recover();
    expect(await streamMessages(store)).toBe(3);
    expect((await restarted.claimOutbox({ owner: 'w', now: 10, leaseMs: 100, limit: 10 })).map((entry) => entry.firingId)).toEqual(['f1']);
  });

  it('is completed by the next commit first, so the event log has no gap, or by a read', async () => {
    const store = await open(`t${randomUUID().slice(0, 8)}`);
    const id = await started(store);
    await commitThenDie(store, firing(id, 1, 'f1', { enqueue: [action(id, 'f1')] }));
    expect((await store.readEvents(id, { afterSequence: 2 })).map((event) => event.sequence)).toEqual([3]);

    const other = await started(store);
    await commitThenDie(store, firing(other, 1, 'g1', { enqueue: [action(other, 'g1')] }));
    const next = await store.commit(firing(other, 2, 'g2', { settle: [{ firingId: 'g1', status: 'done', output: { ok: true } }] }));
    expect(next).toMatchObject({ ok: true, revision: 3 });
    expect((await store.readEvents(other)).map((event) => event.sequence)).toEqual([1, 2, 3, 4, 5]);
    expect(await store.getOutbox('g1')).toMatchObject({ status: 'done', output: { ok: true } });
  });

  it('drops the marker of a commit that never landed once it is clearly not in flight', async () => {
    const clock = fakeClock(1_000_000);
    const prefix = `t${randomUUID().slice(0, 8)}`;
    const store = await open(prefix, clock);
    const id = await started(store);
    raw ??= await connect({ servers: services.nats.url });
    const markers = new PendingEffects(await new Kvm(raw).open(store.names.instances), clock);
    await markers.set(id, 2, await markers.read(id));
    await store.recover();
    expect((await markers.read(id)).marker).toEqual({ revision: 2, at: 1_000_000 });
    clock.advance(61_000);
    await store.recover();
    expect((await markers.read(id)).marker).toBeUndefined();
    expect(await store.getInstance(id)).toMatchObject({ revision: 1, marking: { start: 1 } });
    expect(await store.commit(firing(id, 1, 'f1'))).toMatchObject({ ok: true, revision: 2 });
  });

  async function streamMessages(store: NatsWorkflowStore): Promise<number> {
    raw ??= await connect({ servers: services.nats.url });
    return (await (await jetstreamManager(raw)).streams.info(store.names.stream)).state.messages;
  }
});

function tokenIn(instanceId: string, id: string, place: string): Token {
  return { id, instanceId, place, data: {}, metadata: {}, createdBy: undefined, parents: [], createdAt: 1 };
}
