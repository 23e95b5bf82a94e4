import { describe, expect, it } from 'vitest';
import type { InstanceCommit } from '../storage/workflow-repository.js';
import { CompiledWorkflow } from './compiled-workflow.js';
import { planActionCompletion, planFiring, planTermination, timerId } from './firing.js';
import type { FiringContext, FireOptions } from './firing.js';
import { planStart } from './start-instance.js';
import { parseDefinition } from './workflow-definition.js';
import type { WorkflowDefinitionInput } from './workflow-definition.js';
import type { JsonObject, WorkflowInstance } from './workflow-instance.js';

function compile(input: WorkflowDefinitionInput): CompiledWorkflow {
  const parsed = parseDefinition(input);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return new CompiledWorkflow(parsed.definition);
}

function context(): FiringContext & { ids: number } {
  const state = { ids: 0, now: 1000 };
  return Object.assign(state, { newId: (kind: 'firing' | 'token') => `${kind}-${++state.ids}` });
}

/** Starts an instance and applies plans the way a store would, so tests read as a run. */
function run(workflow: CompiledWorkflow, initialData: JsonObject = {}, variables: JsonObject = {}) {
  const ctx = context();
  const planned = planStart(
    workflow,
    { instanceId: 'wi', workflowId: 'wf', version: 1, initialData, metadata: { by: 'test' }, variables },
    ctx,
  );
  if (!planned.ok) throw new Error(planned.message);
  let instance: WorkflowInstance = { ...planned.start.instance, tokens: planned.start.tokens, revision: 1 };
  const log = [...planned.start.events];
  const timers = new Set((planned.start.timers ?? []).map((timer) => timer.id));
  const apply = (commit: InstanceCommit) => {
    const consumed = new Set(commit.consume);
    instance = {
      ...instance,
      status: commit.status,
      marking: commit.marking,
      variables: commit.variables,
      error: commit.error,
      revision: instance.revision + 1,
      tokens: [...instance.tokens.filter((token) => !consumed.has(token.id)), ...commit.produce],
    };
    log.push(...commit.events);
    for (const id of commit.cancelTimers ?? []) timers.delete(id);
    for (const timer of commit.schedule ?? []) timers.add(timer.id);
    return commit;
  };
  const fire = (transitionId: string, options: FireOptions = { via: 'manual' }) => {
    const plan = planFiring(workflow, instance, transitionId, options, ctx);
    if (plan.ok) apply(plan.commit);
    return plan;
  };
  return {
    get instance() {
      return instance;
    },
    workflow,
    log,
    timers,
    ctx,
    apply,
    fire,
  };
}

const sequence = {
  name: 'sequence',
  places: [{ id: 'draft' }, { id: 'review' }, { id: 'done' }],
  transitions: [
    { id: 'submit', inputs: ['draft'], outputs: ['review'] },
    { id: 'approve', inputs: ['review'], outputs: ['done'], trigger: 'manual' as const, guard: 'input.ok == true && token.data.score > 3' },
  ],
  start: 'draft',
  end: 'done',
};

describe('firing', () => {
  it('moves a token along a sequence, merges input data and records lineage', () => {
    const net = run(compile(sequence), { score: 5 });
    expect(net.instance.status).toBe('running');
    const submit = net.fire('submit', { via: 'automatic' });
    expect(submit.ok).toBe(true);
    expect(net.instance).toMatchObject({ status: 'waiting', marking: { review: 1 } });
    const refused = net.fire('approve', { via: 'manual', input: { ok: false } });
    expect(refused).toMatchObject({ ok: false, reason: 'guard_failed' });
    if (!refused.ok && refused.reason === 'guard_failed') expect(refused.guard.explanation).toContain('input.ok');
    const approved = net.fire('approve', { via: 'manual', input: { ok: true, note: 'lgtm' } });
    expect(approved.ok).toBe(true);
    expect(net.instance.status).toBe('completed');
    const [done] = net.instance.tokens;
    expect(done).toMatchObject({ place: 'done', data: { score: 5, ok: true, note: 'lgtm' }, metadata: { by: 'test' } });
    expect(done?.parents).toHaveLength(1);
    const completion = net.log.find((event) => event.type === 'COMPLETION');
    expect(completion?.data).toMatchObject({ result: { score: 5, note: 'lgtm' }, places: ['done'] });
    const moves = net.log
      .filter((event) => event.type === 'WORKFLOW_TRANSITION')
      .map((event) => [event.data['fromPlace'], event.data['toPlace'], event.data['transitionId']]);
    expect(moves).toEqual([
      ['draft', 'review', 'submit'],
      ['review', 'done', 'approve'],
    ]);
  });

  it('fires a transition only through its own trigger, and refuses unknown ones', () => {
    const net = run(compile(sequence), { score: 5 });
    expect(net.fire('submit', { via: 'manual' })).toMatchObject({ ok: false, reason: 'wrong_trigger' });
    expect(net.fire('nope', { via: 'manual' })).toMatchObject({ ok: false, reason: 'unknown_transition' });
    expect(net.fire('approve', { via: 'manual', input: { ok: true } })).toMatchObject({ ok: false, reason: 'not_enabled' });
  });

  it('forks and joins with weights, and joins merge the branches data', () => {
    const net = run(
      compile({
        name: 'fork-join',
        places: [{ id: 'in' }, { id: 'a' }, { id: 'b' }, { id: 'a2' }, { id: 'b2' }, { id: 'out' }],
        transitions: [
          { id: 'fork', inputs: ['in'], outputs: ['a', { place: 'b', weight: 2 }] },
          { id: 'left', inputs: ['a'], outputs: ['a2'], trigger: 'manual' },
          { id: 'right', inputs: [{ place: 'b', weight: 2 }], outputs: ['b2'], trigger: 'manual' },
          { id: 'join', inputs: ['a2', 'b2'], outputs: ['out'] },
        ],
        start: 'in',
        end: 'out',
      }),
      { doc: 'x' },
    );
    net.fire('fork', { via: 'automatic' });
    expect(net.instance.marking).toEqual({ a: 1, b: 2 });
    expect(net.instance.status).toBe('waiting');
    net.fire('left', { via: 'manual', input: { review: { ok: true } } });
    expect(net.fire('join', { via: 'automatic' })).toMatchObject({ ok: false, reason: 'not_enabled' });
    net.fire('right', { via: 'manual', input: { security: { clean: true } } });
    expect(net.instance.marking).toEqual({ a2: 1, b2: 1 });
    expect(net.instance.status).toBe('running');
    net.fire('join', { via: 'automatic' });
    expect(net.instance.status).toBe('completed');
    expect(net.instance.tokens[0]?.data).toEqual({ doc: 'x', review: { ok: true }, security: { clean: true } });
    expect(net.instance.tokens[0]?.parents).toHaveLength(2);
  });

  it('picks, among several tokens in a place, the oldest one the guard accepts', () => {
    const workflow = compile({
      name: 'pick',
      places: [{ id: 'queue' }, { id: 'done' }],
      transitions: [
        {
          id: 'take',
          inputs: ['queue'],
          outputs: ['done'],
          guard: { field: 'token.data.priority', op: 'gt', value: 5 },
          trigger: 'manual',
        },
      ],
      start: 'queue',
      end: 'done',
    });
    const net = run(workflow, { priority: 1 });
    net.apply({
      ...planFiringStub(net.instance),
      produce: [{ ...net.instance.tokens[0]!, id: 'urgent', data: { priority: 9 }, createdAt: 2000 }],
    });
    const plan = net.fire('take');
    expect(plan.ok && plan.binding.tokens.map((token) => token.id)).toEqual(['urgent']);
    expect(net.instance.marking).toEqual({ queue: 1, done: 1 });
    expect(net.instance.status).toBe('waiting');
  });

  it('respects place capacity', () => {
    const net = run(
      compile({
        name: 'capacity',
        places: [{ id: 'in' }, { id: 'slot', capacity: 1 }, { id: 'out' }],
        transitions: [
          { id: 'fill', inputs: ['in'], outputs: [{ place: 'slot', weight: 2 }] },
          { id: 'drain', inputs: ['slot'], outputs: ['out'] },
        ],
        start: 'in',
        end: 'out',
      }),
    );
    expect(net.instance.status).toBe('deadlocked');
    const plan = planFiring(net.workflow, { ...net.instance, status: 'running' }, 'fill', { via: 'automatic' }, net.ctx);
    expect(plan).toMatchObject({ ok: false, reason: 'capacity', message: expect.stringContaining('capacity of 1') });
  });

  it('parks tokens while an action runs, then applies its output once', () => {
    const workflow = compile({
      name: 'agent',
      places: [{ id: 'in' }, { id: 'out', schema: { type: 'object', required: ['summary'] } }],
      transitions: [{ id: 'summarise', inputs: ['in'], outputs: ['out'], action: { agent: 'writer' } }],
      start: 'in',
      end: 'out',
    });
    const net = run(workflow, { text: 'long' });
    const plan = net.fire('summarise', { via: 'automatic' });
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.commit.enqueue?.[0]).toMatchObject({
      firingId: plan.firingId,
      transitionId: 'summarise',
      action: { agent: 'writer' },
      input: { data: { text: 'long' } },
    });
    expect(net.instance).toMatchObject({ status: 'running', marking: { '@summarise': 1 } });
    const entry = { firingId: plan.firingId, transitionId: 'summarise' };
    expect(planActionCompletion(workflow, net.instance, entry, { output: 'no summary' }, net.ctx)).toMatchObject({
      ok: false,
      reason: 'schema_invalid',
    });
    const done = planActionCompletion(workflow, net.instance, entry, { output: { summary: 'short' }, variables: { cost: 1 } }, net.ctx);
    expect(done.ok).toBe(true);
    if (!done.ok) return;
    expect(done.commit.settle).toEqual([{ firingId: plan.firingId, status: 'done', output: { summary: 'short' } }]);
    net.apply(done.commit);
    expect(net.instance).toMatchObject({ status: 'completed', marking: { out: 1 }, variables: { cost: 1 } });
    expect(net.instance.tokens[0]).toMatchObject({ data: { text: 'long', summary: 'short' }, createdBy: plan.firingId });
    expect(planActionCompletion(workflow, net.instance, entry, { output: { summary: 'again' } }, net.ctx)).toMatchObject({
      ok: false,
      reason: 'already_applied',
    });
  });

  it('schedules a timer when a timer transition becomes enabled, and cancels it when it fires or is disabled', () => {
    const workflow = compile({
      name: 'timer',
      places: [{ id: 'wait' }, { id: 'late' }, { id: 'ok' }],
      transitions: [
        { id: 'expire', inputs: ['wait'], outputs: ['late'], trigger: { timer: { after: '1h' } } },
        { id: 'answer', inputs: ['wait'], outputs: ['ok'], trigger: 'manual' },
      ],
      start: 'wait',
      end: ['late', 'ok'],
    });
    const net = run(workflow);
    expect([...net.timers]).toEqual([timerId('wi', 'expire')]);
    expect(net.instance.status).toBe('running');
    net.fire('answer');
    expect(net.timers.size).toBe(0);
    const again = run(workflow);
    expect(again.fire('expire', { via: 'timer', timerId: timerId('wi', 'expire') }).ok).toBe(true);
    expect(again.timers.size).toBe(0);
    expect(again.instance.status).toBe('completed');
  });

  it('reports a deadlock when nothing can fire and no final place is marked, and cancels with in-flight firings settled', () => {
    const workflow = compile({
      name: 'stuck',
      places: [{ id: 'in' }, { id: 'other' }, { id: 'out' }],
      transitions: [{ id: 'go', inputs: ['in', 'other'], outputs: ['out'] }],
      start: 'in',
      end: 'out',
    });
    const net = run(workflow);
    expect(net.instance).toMatchObject({ status: 'deadlocked', error: { code: 'deadlocked' } });
    expect(net.log.some((event) => event.type === 'ERROR' && event.data['code'] === 'deadlocked')).toBe(true);
    const cancel = planTermination(
      workflow,
      { ...net.instance, status: 'running', tokens: [{ ...net.instance.tokens[0]!, place: '@go', createdBy: 'f9' }] },
      { status: 'cancelled', code: 'cancelled', message: 'by ana' },
      net.ctx,
    );
    expect(cancel).toMatchObject({ status: 'cancelled', settle: [{ firingId: 'f9', status: 'failed' }], events: [{ type: 'CANCELLED' }] });
    expect(planFiring(workflow, { ...net.instance, status: 'cancelled' }, 'go', { via: 'automatic' }, net.ctx)).toMatchObject({
      ok: false,
      reason: 'instance_finished',
    });
  });
});

function planFiringStub(instance: WorkflowInstance) {
  return {
    instanceId: instance.id,
    expectedRevision: instance.revision,
    status: instance.status,
    marking: { ...instance.marking, queue: 2 },
    variables: instance.variables,
    consume: [],
    produce: [],
    events: [],
  };
}
