import type { WorkflowEvent, WorkflowInstance } from '../../engine/workflow-instance.js';
import type { CommitResult, InstanceCommit, InstanceStart, NewOutboxEntry, TimerEntry } from '../workflow-repository.js';

/**
 * What one KV entry (`i.{instance}`) holds: the instance's whole mutable state, so the compare-and-set
 * on that entry IS the commit. Everything a commit changes elsewhere (events in the stream, outbox
 * entries, timer keys) is listed in `effects` and applied after the CAS, idempotently; the entry stays
 * the truth those derived records are checked against.
 */
export interface InstanceRecord {
  instance: WorkflowInstance;
  /** Sequence of the instance's last event; events up to here are in the stream or in `effects.events`. */
  lastSequence: number;
  /** The instance's pending timers by id (the timers bucket is an index over these). */
  timers: Record<string, TimerEntry>;
  /** What the commit that wrote this revision must apply outside the entry. */
  effects: Effects;
}

export interface Effects {
  /** The instance revision these effects belong to. */
  revision: number;
  events: WorkflowEvent[];
  enqueue: NewOutboxEntry[];
  settle: { firingId: string; status: 'done' | 'failed'; output?: unknown; error?: string }[];
  /** Timers added by this revision. */
  schedule: TimerEntry[];
  /** Timers removed by this revision (with their due time, so the index key is known). */
  cancel: TimerEntry[];
}

/** The record an instance starts with (revision 1). */
export function startRecord(start: InstanceStart): InstanceRecord {
  const instance: WorkflowInstance = structuredClone({ ...start.instance, tokens: start.tokens, revision: 1 });
  const events = numbered(instance, 0, start.events);
  const timers: Record<string, TimerEntry> = {};
  for (const timer of start.timers ?? []) timers[timer.id] ??= { ...timer };
  return {
    instance,
    lastSequence: events.length,
    timers,
    effects: {
      revision: 1,
      events,
      enqueue: structuredClone(start.outbox ?? []),
      settle: [],
      schedule: Object.values(timers),
      cancel: [],
    },
  };
}

/**
 * The record after `change`, or the conflict that refuses it. Pure: the caller has already checked
 * that no firing id in `change.enqueue` is taken (`takenFiringId`), which needs the outbox bucket.
 */
export function applyCommit(
  record: InstanceRecord,
  change: InstanceCommit,
  takenFiringId: string | undefined,
): { record: InstanceRecord } | Extract<CommitResult, { reason: 'conflict' }> {
  const current = record.instance;
  const conflict = (message: string) => ({ ok: false as const, reason: 'conflict' as const, currentRevision: current.revision, message });
  if (current.revision !== change.expectedRevision)
    return conflict(`the instance is at revision ${current.revision}, not ${change.expectedRevision}`);
  const live = new Set(current.tokens.map((token) => token.id));
  const missing = change.consume.find((id) => !live.has(id));
  if (missing !== undefined) return conflict(`token ${missing} is not live`);
  if (takenFiringId !== undefined) return conflict(`firing ${takenFiringId} is already in the outbox`);

  const consumed = new Set(change.consume);
  const instance: WorkflowInstance = {
    ...current,
    tokens: [...current.tokens.filter((token) => !consumed.has(token.id)), ...structuredClone([...change.produce])],
    status: change.status,
    marking: structuredClone(change.marking),
    variables: structuredClone(change.variables),
    error: change.error && { ...change.error },
    revision: current.revision + 1,
    updatedAt: Math.max(current.updatedAt, ...change.events.map((event) => event.at)),
  };
  const timers = { ...record.timers };
  const cancel: TimerEntry[] = [];
  for (const id of change.cancelTimers ?? []) {
    const timer = timers[id];
    if (!timer) continue;
    cancel.push(timer);
    delete timers[id];
  }
  const schedule: TimerEntry[] = [];
  for (const timer of change.schedule ?? []) {
    if (timers[timer.id]) continue;
    timers[timer.id] = { ...timer };
    schedule.push({ ...timer });
  }
  const events = numbered(instance, record.lastSequence, change.events);
  return {
    record: {
      instance,
      lastSequence: record.lastSequence + events.length,
      timers,
      effects: {
        revision: instance.revision,
        events,
        enqueue: structuredClone([...(change.enqueue ?? [])]),
        settle: structuredClone([...(change.settle ?? [])]),
        schedule,
        cancel,
      },
    },
  };
}

function numbered(instance: WorkflowInstance, after: number, events: readonly InstanceStart['events'][number][]): WorkflowEvent[] {
  return events.map((event, index) => ({
    ...structuredClone(event),
    instanceId: instance.id,
    workflowId: instance.workflowId,
    sequence: after + index + 1,
  }));
}
