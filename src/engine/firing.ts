import type { InstanceCommit, NewOutboxEntry, OutboxEntry, TimerEntry } from '../storage/workflow-repository.js';
import type { ActionResult } from './action-executor.js';
import type { CompiledTransition, CompiledWorkflow } from './compiled-workflow.js';
import { findBinding } from './enabling.js';
import type { Binding, GuardOutcome } from './enabling.js';
import { busyPlace, outlook } from './instance-status.js';
import { isPlainObject, mergeData } from './merge-data.js';
import { timerDelayMs, triggerKind } from './workflow-definition.js';
import type { TriggerKind } from './workflow-definition.js';
import { markingOf, terminalStatuses, WorkflowEventType } from './workflow-instance.js';
import type { JsonObject, NewWorkflowEvent, Token, WorkflowInstance } from './workflow-instance.js';

/** Ids and time, injected so planning stays deterministic. */
export interface FiringContext {
  now: number;
  newId: (kind: 'firing' | 'token') => string;
}

/** Why a firing was refused (an expected negative: the front doors map it to 409/422). */
export type FiringRefusal =
  | { reason: 'instance_finished'; message: string }
  | { reason: 'unknown_transition'; message: string }
  | { reason: 'wrong_trigger'; message: string }
  | { reason: 'not_enabled' | 'capacity'; message: string }
  | { reason: 'guard_failed'; message: string; guard: GuardOutcome }
  | { reason: 'schema_invalid'; message: string; place: string; problems: string[] };

export type FiringPlan = { ok: true; firingId: string; binding: Binding; commit: InstanceCommit } | ({ ok: false } & FiringRefusal);

export interface FireOptions {
  /** Data sent with a manual firing or carried by an event; merged into the output tokens. */
  input?: JsonObject;
  /** The event that fires an event transition (`{ type, data }`), readable by its filter as `event`. */
  event?: JsonObject;
  /** Which trigger the caller stands for; a transition only fires through its own trigger. */
  via: TriggerKind;
  /** For a timer firing, the timer being handled. */
  timerId?: string;
}

/** The deterministic id of a timer transition's timer in one instance. */
export function timerId(instanceId: string, transitionId: string): string {
  return `${instanceId}:${transitionId}`;
}

/**
 * Plans the firing of `transitionId` on `instance`: picks the tokens (guard evaluated), consumes them,
 * and either produces the output tokens at once (no action) or parks them in the busy place and enqueues
 * the action (outbox). The returned commit is ready for `WorkflowRepository.commit`.
 */
export function planFiring(
  workflow: CompiledWorkflow,
  instance: WorkflowInstance,
  transitionId: string,
  options: FireOptions,
  context: FiringContext,
): FiringPlan {
  if (terminalStatuses.includes(instance.status))
    return {
      ok: false,
      reason: 'instance_finished',
      message: `the instance is ${instance.status}; transition '${transitionId}' can no longer fire`,
    };
  const transition = workflow.transitions.get(transitionId);
  if (!transition) {
    const known = workflow.ordered.map((entry) => entry.definition.id).join(', ');
    return { ok: false, reason: 'unknown_transition', message: `no transition '${transitionId}' in this workflow (it has: ${known})` };
  }
  const kind = triggerKind(transition.definition.trigger);
  if (kind !== options.via) {
    return {
      ok: false,
      reason: 'wrong_trigger',
      message: `transition '${transitionId}' has a ${kind} trigger and cannot be fired ${describeVia(options.via)}`,
    };
  }
  const input = options.input ?? {};
  const found = findBinding(workflow, transition, instance.tokens, {
    variables: instance.variables,
    input,
    ...(options.event ? { event: options.event } : {}),
    explain: true,
  });
  if (!found.ok) return found;
  const binding = found.binding;
  const firingId = context.newId('firing');
  const consumed = binding.tokens;
  const data = mergeData(...consumed.map((token) => token.data), input);
  const metadata = mergeData(...consumed.map((token) => token.metadata));
  const fromPlaces = unique(consumed.map((token) => token.place));
  const events: NewWorkflowEvent[] = [];
  let produce: Token[];
  const enqueue: NewOutboxEntry[] = [];
  if (transition.definition.action === 'none') {
    const outputs = outputTokens(
      workflow,
      transition,
      { data, metadata, parents: consumed.map((token) => token.id), firingId },
      instance.id,
      context,
    );
    if (!outputs.ok) return outputs;
    produce = outputs.tokens;
    events.push(
      transitionEvent(transition, firingId, fromPlaces, produce, consumed, context.now),
      ...tokenEvents(produce, firingId, context.now),
    );
  } else {
    const parked: Token = {
      id: context.newId('token'),
      instanceId: instance.id,
      place: busyPlace(transitionId),
      data,
      metadata,
      createdBy: firingId,
      parents: consumed.map((token) => token.id),
      createdAt: context.now,
    };
    produce = [parked];
    enqueue.push({
      firingId,
      instanceId: instance.id,
      workflowId: instance.workflowId,
      transitionId,
      action: transition.definition.action,
      input: { tokens: consumed, variables: instance.variables, data },
      availableAt: context.now,
    });
    const actionKind = 'agent' in transition.definition.action ? 'agent' : 'function';
    events.push({
      type: WorkflowEventType.actionStarted,
      firingId,
      at: context.now,
      data: { transitionId, kind: actionKind, fromPlaces, consumed: consumed.map((token) => token.id) },
    });
  }
  const commit = finishCommit(
    workflow,
    instance,
    {
      consume: consumed.map((token) => token.id),
      produce,
      events,
      enqueue,
      variables: instance.variables,
      firedTimer: kind === 'timer' ? transitionId : undefined,
    },
    context,
  );
  return { ok: true, firingId, binding, commit };
}

/**
 * Plans applying an action's output: the parked token leaves the busy place and the output tokens
 * (parked data merged with the output) are produced; the outbox entry is settled in the same commit, so
 * the output is applied once even when the action ran more than once. `already_applied` when the
 * parked token is gone (another worker applied it, or the instance was cancelled).
 */
export function planActionCompletion(
  workflow: CompiledWorkflow,
  instance: WorkflowInstance,
  entry: Pick<OutboxEntry, 'firingId' | 'transitionId'>,
  result: ActionResult,
  context: FiringContext,
):
  | { ok: true; commit: InstanceCommit }
  | { ok: false; reason: 'already_applied' | 'schema_invalid' | 'unknown_transition'; message: string } {
  const parked = instance.tokens.find((token) => token.createdBy === entry.firingId && token.place === busyPlace(entry.transitionId));
  if (!parked || terminalStatuses.includes(instance.status))
    return { ok: false, reason: 'already_applied', message: `firing ${entry.firingId} is no longer in flight` };
  const transition = workflow.transitions.get(entry.transitionId);
  if (!transition) return { ok: false, reason: 'unknown_transition', message: `no transition '${entry.transitionId}'` };
  const output = isPlainObject(result.output) ? result.output : result.output === undefined ? {} : { result: result.output };
  const data = mergeData(parked.data, output);
  const outputs = outputTokens(
    workflow,
    transition,
    { data, metadata: parked.metadata, parents: parked.parents, firingId: entry.firingId },
    instance.id,
    context,
  );
  if (!outputs.ok) return { ok: false, reason: 'schema_invalid', message: outputs.message };
  const fromPlaces = unique(transition.definition.inputs.map((arc) => arc.place));
  const events: NewWorkflowEvent[] = [
    {
      type: WorkflowEventType.actionCompleted,
      firingId: entry.firingId,
      at: context.now,
      data: { transitionId: entry.transitionId, output: result.output ?? null },
    },
    transitionEvent(transition, entry.firingId, fromPlaces, outputs.tokens, [], context.now, parked.parents),
    ...tokenEvents(outputs.tokens, entry.firingId, context.now),
  ];
  const variables = result.variables ? mergeData(instance.variables, result.variables) : instance.variables;
  const commit = finishCommit(
    workflow,
    instance,
    {
      consume: [parked.id],
      produce: outputs.tokens,
      events,
      variables,
      settle: [{ firingId: entry.firingId, status: 'done', output: result.output ?? null }],
    },
    context,
  );
  return { ok: true, commit };
}

/** Plans ending an instance: `failed` (an action failed for good) or `cancelled`; in-flight firings are settled as failed. */
export function planTermination(
  workflow: CompiledWorkflow,
  instance: WorkflowInstance,
  ending: { status: 'failed' | 'cancelled'; code: string; message: string; firingId?: string },
  context: FiringContext,
): InstanceCommit {
  const inFlight = instance.tokens
    .filter((token) => token.place.startsWith('@') && token.createdBy !== undefined)
    .map((token) => token.createdBy!);
  const type = ending.status === 'failed' ? WorkflowEventType.error : WorkflowEventType.cancelled;
  return {
    instanceId: instance.id,
    expectedRevision: instance.revision,
    status: ending.status,
    marking: instance.marking,
    variables: instance.variables,
    error: { code: ending.code, message: ending.message },
    consume: [],
    produce: [],
    events: [{ type, firingId: ending.firingId, at: context.now, data: { code: ending.code, message: ending.message } }],
    settle: unique(inFlight).map((firingId) => ({ firingId, status: 'failed' as const, error: ending.message })),
    cancelTimers: timerTransitions(workflow).map((id) => timerId(instance.id, id)),
  };
}

/** The commit that records a status the tokens already give (used when an instance starts or a definition's view changes). */
export function planStatusRefresh(
  workflow: CompiledWorkflow,
  instance: WorkflowInstance,
  context: FiringContext,
): InstanceCommit | undefined {
  const commit = finishCommit(workflow, instance, { consume: [], produce: [], events: [], variables: instance.variables }, context);
  return commit.status === instance.status && commit.events.length === 0 && (commit.schedule ?? []).length === 0 ? undefined : commit;
}

export interface Change {
  consume: string[];
  produce: Token[];
  events: NewWorkflowEvent[];
  variables: JsonObject;
  enqueue?: InstanceCommit['enqueue'];
  settle?: InstanceCommit['settle'];
  firedTimer?: string | undefined;
}

/** Adds what follows from the new tokens (exported for `planStart`): status, marking, completion/deadlock events, timers to start or stop. */
export function finishCommit(
  workflow: CompiledWorkflow,
  instance: WorkflowInstance,
  change: Change,
  context: FiringContext,
): InstanceCommit {
  const consumed = new Set(change.consume);
  const tokens = [...instance.tokens.filter((token) => !consumed.has(token.id)), ...change.produce];
  const before = outlook(workflow, instance.tokens, instance.variables);
  const after = outlook(workflow, tokens, change.variables);
  const events = [...change.events];
  if (after.status !== instance.status) {
    events.push({ type: WorkflowEventType.statusChanged, at: context.now, data: { from: instance.status, to: after.status } });
    if (after.status === 'completed') {
      const ends = tokens.filter((token) => workflow.isEnd(token.place));
      const leftover = markingOf(tokens.filter((token) => !workflow.isEnd(token.place)));
      events.push({
        type: WorkflowEventType.completion,
        at: context.now,
        data: { result: mergeData(...ends.map((token) => token.data)), places: unique(ends.map((token) => token.place)), leftover },
      });
    } else if (after.status === 'deadlocked') {
      events.push({
        type: WorkflowEventType.error,
        at: context.now,
        data: { code: 'deadlocked', message: 'no transition can fire and no final place holds a token', marking: markingOf(tokens) },
      });
    }
  }
  const schedule: TimerEntry[] = [];
  const cancelTimers: string[] = [];
  for (const id of after.timers) {
    if (before.timers.includes(id) && change.firedTimer !== id) continue;
    schedule.push({
      id: timerId(instance.id, id),
      instanceId: instance.id,
      workflowId: instance.workflowId,
      transitionId: id,
      dueAt: context.now + (timerDelayMs(workflow.transitions.get(id)!.definition.trigger) ?? 0),
    });
  }
  for (const id of before.timers) if (!after.timers.includes(id) || change.firedTimer === id) cancelTimers.push(timerId(instance.id, id));
  if (change.firedTimer !== undefined && !cancelTimers.includes(timerId(instance.id, change.firedTimer)))
    cancelTimers.push(timerId(instance.id, change.firedTimer));
  return {
    instanceId: instance.id,
    expectedRevision: instance.revision,
    status: after.status,
    marking: markingOf(tokens),
    variables: change.variables,
    error:
      after.status === 'deadlocked'
        ? { code: 'deadlocked', message: 'no transition can fire and no final place holds a token' }
        : undefined,
    consume: change.consume,
    produce: change.produce,
    events,
    ...(change.enqueue && change.enqueue.length > 0 ? { enqueue: change.enqueue } : {}),
    ...(change.settle ? { settle: change.settle } : {}),
    ...(schedule.length > 0 ? { schedule } : {}),
    ...(cancelTimers.length > 0 ? { cancelTimers } : {}),
  };
}

function outputTokens(
  workflow: CompiledWorkflow,
  transition: CompiledTransition,
  source: { data: JsonObject; metadata: JsonObject; parents: string[]; firingId: string },
  instanceId: string,
  context: FiringContext,
): { ok: true; tokens: Token[] } | { ok: false; reason: 'schema_invalid'; message: string; place: string; problems: string[] } {
  const tokens: Token[] = [];
  for (const arc of transition.definition.outputs) {
    const problems = workflow.validatePlaceData(arc.place, source.data);
    if (problems.length > 0) {
      return {
        ok: false,
        reason: 'schema_invalid',
        place: arc.place,
        problems,
        message: `the data for place '${arc.place}' does not match its schema: ${problems.join('; ')}`,
      };
    }
    for (let copy = 0; copy < arc.weight; copy++) {
      tokens.push({
        id: context.newId('token'),
        instanceId,
        place: arc.place,
        data: structuredClone(source.data),
        metadata: structuredClone(source.metadata),
        createdBy: source.firingId,
        parents: source.parents,
        createdAt: context.now,
      });
    }
  }
  return { ok: true, tokens };
}

function transitionEvent(
  transition: CompiledTransition,
  firingId: string,
  fromPlaces: string[],
  produced: Token[],
  consumed: Token[],
  at: number,
  parents?: string[],
): NewWorkflowEvent {
  const toPlaces = unique(produced.map((token) => token.place));
  return {
    type: WorkflowEventType.transition,
    firingId,
    at,
    data: {
      transitionId: transition.definition.id,
      fromPlace: fromPlaces[0] ?? null,
      toPlace: toPlaces[0] ?? null,
      fromPlaces,
      toPlaces,
      consumed: parents ?? consumed.map((token) => token.id),
      produced: produced.map((token) => token.id),
    },
  };
}

function tokenEvents(tokens: Token[], firingId: string, at: number): NewWorkflowEvent[] {
  return tokens.map((token) => ({ type: WorkflowEventType.tokenCreated, firingId, at, data: { token } as unknown as JsonObject }));
}

function timerTransitions(workflow: CompiledWorkflow): string[] {
  return workflow.ordered.filter((entry) => triggerKind(entry.definition.trigger) === 'timer').map((entry) => entry.definition.id);
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

function describeVia(via: TriggerKind): string {
  return via === 'manual' ? 'by hand' : via === 'automatic' ? 'automatically' : via === 'timer' ? 'by a timer' : 'by an event';
}
