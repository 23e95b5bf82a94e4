import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { WorkflowDefinition } from '../../src/engine/workflow-definition.js';
import type { NewWorkflowEvent, Token } from '../../src/engine/workflow-instance.js';
import type { InstanceCommit, NewOutboxEntry, WorkflowRepository } from '../../src/storage/workflow-repository.js';

/** A fresh, empty workflow store, and optionally a second connection to the same data (another replica). */
export interface WorkflowStoreHarness {
  repository: WorkflowRepository;
  second?: WorkflowRepository;
  close(): Promise<void>;
}

/**
 * The suite every workflow store backend passes (memory, SQLite, PostgreSQL, NATS JetStream). `open`
 * must return isolated data (a fresh database, schema, bucket or prefix) each time.
 */
export function workflowStoreContract(name: string, open: () => Promise<WorkflowStoreHarness>): void {
  const withStore = async (body: (repository: WorkflowRepository, second: WorkflowRepository) => Promise<void>): Promise<void> => {
    const harness = await open();
    try {
      await body(harness.repository, harness.second ?? harness.repository);
    } finally {
      await harness.close();
    }
  };

  describe(`${name} workflow store contract`, () => {
    it('keeps every version of a definition and refuses a taken version', () =>
      withStore(async (store) => {
        expect(await store.getDefinition('review')).toBeUndefined();
        const v1 = { workflowId: 'review', version: 1, definition: definition('Review'), analysis: { ok: true }, createdAt: 1000 };
        expect(await store.saveDefinition(v1)).toEqual({ ok: true });
        expect(await store.saveDefinition({ ...v1, createdAt: 5 })).toEqual({ ok: false, reason: 'version_exists' });
        const v2 = { ...v1, version: 2, definition: definition('Review 2'), createdAt: 2000 };
        await store.saveDefinition(v2);
        await store.saveDefinition({ ...v1, workflowId: 'another' });
        expect(await store.getDefinition('review')).toEqual(v2);
        expect(await store.getDefinition('review', 1)).toEqual(v1);
        expect(await store.getDefinition('review', 3)).toBeUndefined();
        expect((await store.listVersions('review')).map((entry) => entry.version)).toEqual([1, 2]);
        expect((await store.listDefinitions()).map((entry) => [entry.workflowId, entry.version])).toEqual([
          ['another', 1],
          ['review', 2],
        ]);
      }));

    it('creates an instance at revision 1 with its tokens and numbered events, once', () =>
      withStore(async (store) => {
        const id = newId();
        const start = instanceStart(id, [token(id, 't1', 'start')]);
        const created = await store.createInstance(start);
        expect(created.ok).toBe(true);
        if (created.ok)
          expect(created.events.map((event) => [event.sequence, event.type, event.instanceId])).toEqual([[1, 'INSTANCE_CREATED', id]]);
        expect(await store.createInstance(start)).toEqual({ ok: false, reason: 'exists' });
        const instance = await store.getInstance(id);
        expect(instance).toMatchObject({ id, workflowId: 'wf', version: 1, status: 'running', revision: 1, marking: { start: 1 } });
        expect(instance?.tokens).toEqual([token(id, 't1', 'start')]);
        expect(instance?.variables).toEqual({ round: 0 });
        expect(await store.getInstance(newId())).toBeUndefined();
      }));

    it('commits a firing: consumes and produces tokens, bumps the revision, continues the log', () =>
      withStore(async (store) => {
        const id = await started(store);
        const result = await store.commit(
          firing(
            id,
            1,
            ['t1'],
            [token(id, 't2', 'left', { createdBy: 'f1', parents: ['t1'] }), token(id, 't3', 'right', { createdBy: 'f1', parents: ['t1'] })],
          ),
        );
        expect(result).toMatchObject({ ok: true, revision: 2 });
        if (result.ok) expect(result.events.map((event) => event.sequence)).toEqual([2, 3]);
        const instance = await store.getInstance(id);
        expect(instance).toMatchObject({ revision: 2, status: 'waiting', marking: { left: 1, right: 1 }, variables: { round: 1 } });
        expect(instance?.tokens.map((entry) => entry.id).sort()).toEqual(['t2', 't3']);
        expect(instance?.tokens.find((entry) => entry.id === 't2')).toEqual(token(id, 't2', 'left', { createdBy: 'f1', parents: ['t1'] }));
        const events = await store.readEvents(id);
        expect(events.map((event) => [event.sequence, event.type])).toEqual([
          [1, 'INSTANCE_CREATED'],
          [2, 'WORKFLOW_TRANSITION'],
          [3, 'TOKEN_CREATED'],
        ]);
        expect(events[1]).toMatchObject({ firingId: 'f1', workflowId: 'wf', data: { transitionId: 'split' }, at: 2000 });
        expect((await store.readEvents(id, { afterSequence: 1, limit: 1 })).map((event) => event.sequence)).toEqual([2]);
        expect(await store.readEvents(id, { afterSequence: 3 })).toEqual([]);
      }));

    it('refuses a stale revision or a token that is no longer live, and applies nothing then', () =>
      withStore(async (store) => {
        const id = await started(store);
        const stale = await store.commit(firing(id, 7, ['t1'], [token(id, 't2', 'left')]));
        expect(stale).toMatchObject({ ok: false, reason: 'conflict', currentRevision: 1 });
        const gone = await store.commit(firing(id, 1, ['nope'], [token(id, 't2', 'left')], { enqueue: [outbox(id, 'f-gone')] }));
        expect(gone).toMatchObject({ ok: false, reason: 'conflict' });
        expect(await store.commit(firing(newId(), 1, [], []))).toEqual({ ok: false, reason: 'not_found' });
        const instance = await store.getInstance(id);
        expect(instance).toMatchObject({ revision: 1, marking: { start: 1 } });
        expect(instance?.tokens.map((entry) => entry.id)).toEqual(['t1']);
        expect(await store.readEvents(id)).toHaveLength(1);
        expect(await store.getOutbox('f-gone')).toBeUndefined();
      }));

    it('lets exactly one of several concurrent commits on the same revision win, across connections', () =>
      withStore(async (store, second) => {
        const id = await started(store);
        const attempts = Array.from({ length: 6 }, (_, index) =>
          (index % 2 === 0 ? store : second).commit(firing(id, 1, ['t1'], [token(id, `out-${index}`, 'left')], { firingId: `f-${index}` })),
        );
        const results = await Promise.all(attempts);
        expect(results.filter((result) => result.ok)).toHaveLength(1);
        expect(results.filter((result) => !result.ok).every((result) => !result.ok && result.reason === 'conflict')).toBe(true);
        const instance = await second.getInstance(id);
        expect(instance?.revision).toBe(2);
        expect(instance?.tokens).toHaveLength(1);
        expect((await store.readEvents(id)).map((event) => event.sequence)).toEqual([1, 2, 3]);
      }));

    it('enqueues actions in the outbox, leases each to one worker, and settles them in a commit', () =>
      withStore(async (store, second) => {
        const id = await started(store);
        await store.commit(firing(id, 1, ['t1'], [], { enqueue: [outbox(id, 'f1', 1000), outbox(id, 'f2', 5000)] }));
        const entry = await store.getOutbox('f1');
        expect(entry).toMatchObject({
          firingId: 'f1',
          status: 'pending',
          attempts: 0,
          transitionId: 'split',
          action: { agent: 'reviewer' },
        });
        expect(entry?.input.tokens[0]?.data).toEqual({ n: 1, nested: { list: [1, 'two'] } });
        const [first, other] = await Promise.all([
          store.claimOutbox({ owner: 'a', now: 2000, leaseMs: 1000, limit: 10 }),
          second.claimOutbox({ owner: 'b', now: 2000, leaseMs: 1000, limit: 10 }),
        ]);
        expect([...first, ...other].map((claimed) => claimed.firingId)).toEqual(['f1']);
        const claimed = [...first, ...other][0]!;
        expect(claimed).toMatchObject({ attempts: 1, leaseUntil: 3000 });
        expect(await store.claimOutbox({ owner: 'c', now: 2500, leaseMs: 1000, limit: 10 })).toEqual([]);
        const again = await store.claimOutbox({ owner: 'c', now: 3000, leaseMs: 1000, limit: 10 });
        expect(again.map((item) => [item.firingId, item.attempts, item.leaseOwner])).toEqual([['f1', 2, 'c']]);
        await store.releaseOutbox('f1', { owner: 'c', availableAt: 4500, error: 'timed out' });
        expect(await store.claimOutbox({ owner: 'd', now: 4000, leaseMs: 1000, limit: 10 })).toEqual([]);
        expect(await store.getOutbox('f1')).toMatchObject({ lastError: 'timed out', availableAt: 4500, status: 'pending' });
        const settled = await store.commit(
          firing(id, 2, [], [token(id, 't9', 'end')], {
            firingId: 'f1',
            settle: [{ firingId: 'f1', status: 'done', output: { verdict: 'ok' } }],
          }),
        );
        expect(settled.ok).toBe(true);
        expect(await store.getOutbox('f1')).toMatchObject({ status: 'done', output: { verdict: 'ok' } });
        const later = await store.claimOutbox({ owner: 'd', now: 6000, leaseMs: 1000, limit: 10 });
        expect(later.map((item) => item.firingId)).toEqual(['f2']);
        const reused = await store.commit(firing(id, 3, [], [], { firingId: 'f3', enqueue: [outbox(id, 'f2')] }));
        expect(reused).toMatchObject({ ok: false, reason: 'conflict' });
      }));

    it('keeps durable timers until the commit that handles them', () =>
      withStore(async (store) => {
        const id = await started(store);
        expect(await store.nextTimerAt()).toBeUndefined();
        const timer = { id: `${id}:remind:2`, instanceId: id, workflowId: 'wf', transitionId: 'remind', dueAt: 9000 };
        const early = { ...timer, id: `${id}:expire:2`, transitionId: 'expire', dueAt: 7000 };
        await store.commit(firing(id, 1, ['t1'], [token(id, 't2', 'left')], { schedule: [timer, early] }));
        await store.commit(firing(id, 2, [], [], { firingId: 'f2', schedule: [{ ...timer, dueAt: 1 }] }));
        expect(await store.nextTimerAt()).toBe(7000);
        expect(await store.dueTimers(6999, 10)).toEqual([]);
        expect(await store.dueTimers(9000, 10)).toEqual([early, timer]);
        expect(await store.dueTimers(9000, 1)).toEqual([early]);
        await store.commit(firing(id, 3, [], [], { firingId: 'f3', cancelTimers: [early.id, 'unknown'] }));
        expect(await store.dueTimers(10_000, 10)).toEqual([timer]);
      }));

    it('creates an instance with its outbox entries and timers in the same call', () =>
      withStore(async (store) => {
        const id = newId();
        const timer = { id: `${id}:expire`, instanceId: id, workflowId: 'wf', transitionId: 'expire', dueAt: 5000 };
        const created = await store.createInstance({
          ...instanceStart(id, [token(id, 't1', 'start')]),
          outbox: [outbox(id, `${id}-f0`)],
          timers: [timer],
        });
        expect(created.ok).toBe(true);
        expect(await store.getOutbox(`${id}-f0`)).toMatchObject({ status: 'pending', attempts: 0, instanceId: id });
        expect(await store.dueTimers(5000, 10)).toEqual([timer]);
      }));

    it('commits a change without tokens (status, variables, error), and settles an entry as failed', () =>
      withStore(async (store) => {
        const id = await started(store);
        await store.commit(firing(id, 1, [], [], { enqueue: [outbox(id, 'f-fail')] }));
        const failed = await store.commit({
          instanceId: id,
          expectedRevision: 2,
          status: 'failed',
          marking: { start: 1 },
          variables: { round: 2, nested: { ok: false } },
          error: { code: 'action_failed', message: 'boom' },
          consume: [],
          produce: [],
          events: [{ type: 'ERROR', firingId: 'f-fail', at: 3000, data: { code: 'action_failed', message: 'boom' } }],
          settle: [{ firingId: 'f-fail', status: 'failed', error: 'boom' }],
        });
        expect(failed).toMatchObject({ ok: true, revision: 3 });
        expect(await store.getInstance(id)).toMatchObject({
          status: 'failed',
          revision: 3,
          variables: { round: 2, nested: { ok: false } },
          error: { code: 'action_failed', message: 'boom' },
          updatedAt: 3000,
        });
        expect(await store.getOutbox('f-fail')).toMatchObject({ status: 'failed', lastError: 'boom' });
        expect(await store.claimOutbox({ owner: 'a', now: 10_000, leaseMs: 1000, limit: 10 })).toEqual([]);
        const cleared = await store.commit({
          instanceId: id,
          expectedRevision: 3,
          status: 'failed',
          marking: {},
          variables: {},
          error: undefined,
          consume: ['t1'],
          produce: [],
          events: [],
        });
        expect(cleared.ok).toBe(true);
        expect((await store.getInstance(id))?.error).toBeUndefined();
        expect(await store.readEvents(id)).toHaveLength(4);
      }));

    it('lists instances newest first, by workflow and status', () =>
      withStore(async (store) => {
        const a = newId();
        const b = newId();
        const c = newId();
        await store.createInstance(instanceStart(a, [], { createdAt: 1 }));
        await store.createInstance(instanceStart(b, [], { createdAt: 2, workflowId: 'other' }));
        await store.createInstance(instanceStart(c, [], { createdAt: 3, status: 'waiting' }));
        expect((await store.listInstances()).map((instance) => instance.id)).toEqual([c, b, a]);
        expect((await store.listInstances({ workflowId: 'wf' })).map((instance) => instance.id)).toEqual([c, a]);
        expect((await store.listInstances({ statuses: ['running'] })).map((instance) => instance.id)).toEqual([b, a]);
        expect((await store.listInstances({ limit: 1 })).map((instance) => instance.id)).toEqual([c]);
      }));
  });
}

function newId(): string {
  return `wi_${randomUUID().replaceAll('-', '')}`;
}

function definition(name: string): WorkflowDefinition {
  return {
    id: 'review',
    name,
    places: [{ id: 'start' }, { id: 'end', name: 'End' }],
    transitions: [
      {
        id: 'finish',
        inputs: [{ place: 'start', weight: 1 }],
        outputs: [{ place: 'end', weight: 1 }],
        trigger: 'automatic',
        action: 'none',
      },
    ],
    start: ['start'],
    end: ['end'],
    variables: {},
    metadata: {},
  };
}

function token(instanceId: string, id: string, place: string, extra: Partial<Token> = {}): Token {
  return {
    id,
    instanceId,
    place,
    data: { n: 1, nested: { list: [1, 'two'] } },
    metadata: { by: 'test' },
    createdBy: undefined,
    parents: [],
    createdAt: 1000,
    ...extra,
  };
}

function instanceStart(
  id: string,
  tokens: Token[],
  extra: { createdAt?: number; workflowId?: string; status?: 'running' | 'waiting' } = {},
) {
  const createdAt = extra.createdAt ?? 1000;
  const marking: Record<string, number> = {};
  for (const entry of tokens) marking[entry.place] = (marking[entry.place] ?? 0) + 1;
  return {
    instance: {
      id,
      workflowId: extra.workflowId ?? 'wf',
      version: 1,
      status: extra.status ?? ('running' as const),
      marking,
      variables: { round: 0 },
      metadata: { source: 'contract' },
      error: undefined,
      createdAt,
      updatedAt: createdAt,
    },
    tokens,
    events: [{ type: 'INSTANCE_CREATED', at: createdAt, data: { initialData: { n: 1 } } }],
  };
}

async function started(store: WorkflowRepository): Promise<string> {
  const id = newId();
  const created = await store.createInstance(instanceStart(id, [token(id, 't1', 'start')]));
  expect(created.ok).toBe(true);
  return id;
}

function outbox(instanceId: string, firingId: string, availableAt = 1000): NewOutboxEntry {
  return {
    firingId,
    instanceId,
    workflowId: 'wf',
    transitionId: 'split',
    action: { agent: 'reviewer' },
    input: { tokens: [token(instanceId, 't1', 'start')], variables: { round: 0 }, data: {} },
    availableAt,
  };
}

function firing(
  instanceId: string,
  expectedRevision: number,
  consume: string[],
  produce: Token[],
  extra: Partial<InstanceCommit> & { firingId?: string } = {},
): InstanceCommit {
  const firingId = extra.firingId ?? 'f1';
  const marking: Record<string, number> = {};
  for (const entry of produce) marking[entry.place] = (marking[entry.place] ?? 0) + 1;
  const events: NewWorkflowEvent[] = [
    { type: 'WORKFLOW_TRANSITION', firingId, at: 2000, data: { transitionId: 'split' } },
    { type: 'TOKEN_CREATED', firingId, at: 2000, data: { tokenIds: produce.map((entry) => entry.id) } },
  ];
  const { firingId: _ignored, ...rest } = extra;
  return { instanceId, expectedRevision, status: 'waiting', marking, variables: { round: 1 }, consume, produce, events, ...rest };
}
