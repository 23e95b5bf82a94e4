import { describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.js';
import { ActionError } from '../engine/action-executor.js';
import type { ActionRequest } from '../engine/action-executor.js';
import type { WorkflowEvent } from '../engine/workflow-instance.js';
import { MemoryWorkflowRepository } from '../storage/memory/memory-workflow-repository.js';
import { MemoryEventBus } from '../streaming/memory-event-bus.js';
import { topics } from '../streaming/event-bus.js';
import { fakeClock, refusal } from '../../test/support/unit.js';
import { currentPlace, WorkflowService } from './workflow-service.js';

function setup() {
  const clock = fakeClock(1_000_000);
  const repository = new MemoryWorkflowRepository();
  const bus = new MemoryEventBus(clock);
  const service = new WorkflowService({ repository, bus, clock, logger: silentLogger, runner: { retryBaseMs: 1000, maxAttempts: 3 } });
  const calls: ActionRequest[] = [];
  return { clock, repository, bus, service, calls };
}

const review = {
  id: 'review',
  name: 'Review',
  places: [{ id: 'draft' }, { id: 'summarised' }, { id: 'approved' }],
  transitions: [
    { id: 'summarise', inputs: ['draft'], outputs: ['summarised'], action: { agent: 'writer' } },
    { id: 'approve', inputs: ['summarised'], outputs: ['approved'], trigger: 'manual', guard: "input.by != '' && data.summary != ''" },
  ],
  start: 'draft',
  end: 'approved',
};

describe('WorkflowService', () => {
  it('refuses to publish a definition with analysis errors and returns the report', async () => {
    const { service } = setup();
    const result = await service.catalog.publish(
      { ...review, transitions: [{ id: 'x', inputs: ['draft'], outputs: ['nowhere'] }] },
      { kind: 'create' },
    );
    expect(result.ok).toBe(false);
    expect(result.report.issues[0]).toMatchObject({ code: 'unknown_place', severity: 'error' });
  });

  it('runs an instance: agent action through the outbox, events on the bus and in the log, manual approval', async () => {
    const { service, bus, calls } = setup();
    service.actions.register('agent', {
      execute: async (request) => {
        calls.push(request);
        return { output: { summary: `short ${String(request.data['text'])}` } };
      },
    });
    const published = await service.catalog.publish(review, { kind: 'create' });
    expect(published.ok && published.record.version).toBe(1);
    const seen: WorkflowEvent[] = [];
    bus.subscribe<WorkflowEvent>(topics.workflowInstances('review'), (message) => seen.push(message.payload));
    const started = await service.startInstance('review', { initialData: { text: 'doc' } });
    expect(started).toMatchObject({ status: 'running', marking: { '@summarise': 1 } });
    expect(await service.runner.drainOutbox()).toBe(1);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ transitionId: 'summarise', action: { agent: 'writer' }, data: { text: 'doc' }, attempt: 1 });
    const waiting = await service.getInstance(started.id);
    expect(waiting).toMatchObject({ status: 'waiting', marking: { summarised: 1 } });
    expect(currentPlace(waiting)).toBe('summarised');

    const { transitions } = await service.transitions(started.id);
    expect(transitions.find((transition) => transition.id === 'approve')).toMatchObject({ enabled: true, trigger: 'manual' });

    const guard = await refusal(service.fire(started.id, 'approve', { data: { by: '' }, expectedRevision: waiting.revision }));
    expect(guard).toMatchObject({ code: 'guard_failed', status: 422 });
    expect(guard.message).toContain("input.by != ''");
    const stale = await refusal(service.fire(started.id, 'approve', { data: { by: 'ana' }, expectedRevision: waiting.revision - 1 }));
    expect(stale).toMatchObject({ code: 'revision_conflict', status: 409 });
    const fired = await service.fire(started.id, 'approve', { data: { by: 'ana' }, expectedRevision: waiting.revision });
    expect(fired.instance).toMatchObject({ status: 'completed', marking: { approved: 1 } });
    expect(fired.instance.tokens[0]?.data).toEqual({ text: 'doc', summary: 'short doc', by: 'ana' });

    const history = await service.history(started.id);
    expect(history.map((event) => event.sequence)).toEqual(history.map((_, index) => index + 1));
    expect(history.map((event) => event.type)).toEqual(
      expect.arrayContaining([
        'INSTANCE_CREATED',
        'ACTION_STARTED',
        'ACTION_COMPLETED',
        'WORKFLOW_TRANSITION',
        'TOKEN_CREATED',
        'COMPLETION',
      ]),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen.map((event) => event.sequence)).toEqual(history.map((event) => event.sequence));
    expect(await service.runner.drainOutbox()).toBe(0);
  });

  it('keeps an instance on its version when a new one is published', async () => {
    const { service } = setup();
    await service.catalog
      .publish(
        { ...review, transitions: [review.transitions[1]!], places: [{ id: 'draft' }, { id: 'approved' }], start: 'draft' },
        { kind: 'create' },
      )
      .catch(() => undefined);
    const manual = {
      ...review,
      places: [{ id: 'draft' }, { id: 'approved' }],
      transitions: [{ id: 'approve', inputs: ['draft'], outputs: ['approved'], trigger: 'manual' }],
    };
    expect((await service.catalog.publish(manual, { kind: 'create' })).ok).toBe(true);
    const first = await service.startInstance('review', {});
    const v2 = await service.catalog.publish(
      { ...manual, transitions: [{ id: 'accept', inputs: ['draft'], outputs: ['approved'], trigger: 'manual' }] },
      { kind: 'version', workflowId: 'review' },
    );
    expect(v2.ok && v2.record.version).toBe(2);
    expect(await refusal(service.catalog.publish(manual, { kind: 'create' }))).toMatchObject({ status: 409 });
    expect((await service.fire(first.id, 'approve', {})).instance).toMatchObject({ version: 1, status: 'completed' });
    const second = await service.startInstance('review', {});
    expect(second.version).toBe(2);
    expect(await refusal(service.fire(second.id, 'approve', {}))).toMatchObject({ status: 404 });
  });

  it('retries a failing action with backoff, then fails the instance when attempts are spent', async () => {
    const { service, clock } = setup();
    let failures = 0;
    service.actions.register('agent', {
      execute: async () => {
        failures++;
        throw new Error('provider down');
      },
    });
    await service.catalog.publish(review, { kind: 'create' });
    const instance = await service.startInstance('review', { initialData: { text: 'doc' } });
    await service.runner.drainOutbox();
    expect(await service.runner.drainOutbox()).toBe(0);
    clock.advance(1000);
    await service.runner.drainOutbox();
    clock.advance(1999);
    expect(await service.runner.drainOutbox()).toBe(0);
    clock.advance(1);
    await service.runner.drainOutbox();
    expect(failures).toBe(3);
    expect(await service.getInstance(instance.id)).toMatchObject({ status: 'failed', error: { code: 'action_failed' } });
    const errors = (await service.history(instance.id)).filter((event) => event.type === 'ERROR');
    expect(errors[0]?.data['message']).toContain('provider down');
  });

  it('fails at once on a non-retryable action error', async () => {
    const { service } = setup();
    service.actions.register('agent', {
      execute: async () => Promise.reject(new ActionError('bad_output', 'the agent answered nonsense', { retryable: false })),
    });
    await service.catalog.publish(review, { kind: 'create' });
    const instance = await service.startInstance('review', {});
    await service.runner.drainOutbox();
    expect(await service.getInstance(instance.id)).toMatchObject({ status: 'failed', error: { code: 'bad_output' } });
  });

  it('fires durable timers when they are due, and delivers events to event transitions', async () => {
    const { service, clock } = setup();
    await service.catalog.publish(
      {
        id: 'remind',
        name: 'Remind',
        places: [{ id: 'open' }, { id: 'reminded' }, { id: 'closed' }],
        transitions: [
          { id: 'nudge', inputs: ['open'], outputs: ['reminded'], trigger: { timer: { after: '1h' } } },
          {
            id: 'merged',
            inputs: ['reminded'],
            outputs: ['closed'],
            trigger: { event: { type: 'merge_request.merged', filter: 'event.data.project == variables.project' } },
          },
        ],
        start: 'open',
        end: 'closed',
      },
      { kind: 'create' },
    );
    const instance = await service.startInstance('remind', { variables: { project: 'web' } });
    expect(instance.status).toBe('running');
    clock.advance(3_599_999);
    expect(await service.runner.fireDueTimers()).toBe(0);
    clock.advance(1);
    expect(await service.runner.fireDueTimers()).toBe(1);
    expect(await service.getInstance(instance.id)).toMatchObject({ status: 'waiting', marking: { reminded: 1 } });
    expect(await service.deliverEvent('merge_request.merged', { project: 'api' })).toEqual([]);
    const fired = await service.deliverEvent('merge_request.merged', { project: 'web' });
    expect(fired).toHaveLength(1);
    expect(await service.getInstance(instance.id)).toMatchObject({ status: 'completed' });
  });

  it('cancels an instance and drops the output of its action in flight', async () => {
    const { service } = setup();
    let release: () => void = () => {};
    service.actions.register('agent', {
      execute: () => new Promise((resolve) => (release = () => resolve({ output: { summary: 'late' } }))),
    });
    await service.catalog.publish(review, { kind: 'create' });
    const instance = await service.startInstance('review', {});
    const draining = service.runner.drainOutbox();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await service.cancel(instance.id, 'not needed')).toMatchObject({ status: 'cancelled', error: { message: 'not needed' } });
    release();
    await draining;
    const after = await service.getInstance(instance.id);
    expect(after).toMatchObject({ status: 'cancelled', marking: { '@summarise': 1 } });
    expect(await refusal(service.cancel(instance.id))).toMatchObject({ status: 409 });
  });
});

describe('WorkflowService runtime lifecycle', () => {
  it('gives an interrupted action back to the outbox on stop, and runs it again after a start', async () => {
    const { service, repository } = setup();
    let runs = 0;
    service.actions.register('agent', {
      execute: (request) =>
        new Promise((resolve, reject) => {
          runs++;
          if (runs > 1) resolve({ output: { summary: 'second run' } });
          request.signal.addEventListener('abort', () => reject(new Error('aborted')));
        }),
    });
    await service.catalog.publish(review, { kind: 'create' });
    expect(await refusal(service.catalog.publish({ ...review, id: 'instances' }, { kind: 'create' }))).toMatchObject({
      status: 400,
      param: 'id',
    });
    const instance = await service.startInstance('review', {});
    const draining = service.runner.drainOutbox();
    await new Promise((resolve) => setImmediate(resolve));
    await service.stop();
    await draining;
    const [event] = (await service.history(instance.id)).filter((entry) => entry.type === 'ACTION_STARTED');
    expect(await repository.getOutbox(event!.firingId!)).toMatchObject({ status: 'pending', leaseOwner: undefined, attempts: 1 });
    await service.runner.drainOutbox();
    expect(runs).toBe(2);
    expect(await service.getInstance(instance.id)).toMatchObject({ status: 'waiting', marking: { summarised: 1 } });
  });
});
