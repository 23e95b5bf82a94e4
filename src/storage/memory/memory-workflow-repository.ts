import type { NewWorkflowEvent, WorkflowEvent, WorkflowInstance } from '../../engine/workflow-instance.js';
import type {
  CommitResult,
  InstanceCommit,
  InstanceFilter,
  InstanceStart,
  NewOutboxEntry,
  OutboxEntry,
  StoredDefinition,
  TimerEntry,
  WorkflowRepository,
} from '../workflow-repository.js';

/**
 * The workflow store in memory: the reference implementation of the port, for unit tests of the
 * runtime and for reading what the contract means. Nothing survives the process. Values are cloned in
 * and out so callers cannot change stored state by mutating what they hold.
 */
export class MemoryWorkflowRepository implements WorkflowRepository {
  private readonly definitions = new Map<string, StoredDefinition[]>();
  private readonly instances = new Map<string, WorkflowInstance>();
  private readonly events = new Map<string, WorkflowEvent[]>();
  private readonly outbox = new Map<string, OutboxEntry>();
  private readonly timers = new Map<string, TimerEntry>();

  async saveDefinition(record: StoredDefinition): Promise<{ ok: true } | { ok: false; reason: 'version_exists' }> {
    const versions = this.definitions.get(record.workflowId) ?? [];
    if (versions.some((entry) => entry.version === record.version)) return { ok: false, reason: 'version_exists' };
    versions.push(structuredClone(record));
    versions.sort((left, right) => left.version - right.version);
    this.definitions.set(record.workflowId, versions);
    return { ok: true };
  }

  async getDefinition(workflowId: string, version?: number): Promise<StoredDefinition | undefined> {
    const versions = this.definitions.get(workflowId) ?? [];
    const found = version === undefined ? versions.at(-1) : versions.find((entry) => entry.version === version);
    return found && structuredClone(found);
  }

  async listDefinitions(): Promise<StoredDefinition[]> {
    return [...this.definitions.keys()].sort().map((id) => structuredClone(this.definitions.get(id)!.at(-1)!));
  }

  async listVersions(workflowId: string): Promise<StoredDefinition[]> {
    return structuredClone(this.definitions.get(workflowId) ?? []);
  }

  async createInstance(start: InstanceStart): Promise<{ ok: true; events: WorkflowEvent[] } | { ok: false; reason: 'exists' }> {
    if (this.instances.has(start.instance.id)) return { ok: false, reason: 'exists' };
    if (start.outbox?.some((entry) => this.outbox.has(entry.firingId))) throw new Error('outbox firing id already used');
    this.instances.set(start.instance.id, structuredClone({ ...start.instance, tokens: start.tokens, revision: 1 }));
    this.events.set(start.instance.id, []);
    for (const entry of start.outbox ?? []) this.outbox.set(entry.firingId, pending(entry));
    for (const timer of start.timers ?? []) if (!this.timers.has(timer.id)) this.timers.set(timer.id, { ...timer });
    return { ok: true, events: this.append(start.instance.id, start.instance.workflowId, start.events) };
  }

  async getInstance(instanceId: string): Promise<WorkflowInstance | undefined> {
    const instance = this.instances.get(instanceId);
    return instance && structuredClone(instance);
  }

  async listInstances(filter: InstanceFilter = {}): Promise<WorkflowInstance[]> {
    const matching = [...this.instances.values()].filter(
      (instance) =>
        (filter.workflowId === undefined || instance.workflowId === filter.workflowId) &&
        (filter.statuses === undefined || filter.statuses.includes(instance.status)),
    );
    matching.sort((left, right) => right.createdAt - left.createdAt || (left.id < right.id ? 1 : -1));
    return structuredClone(matching.slice(0, filter.limit ?? 100));
  }

  async commit(change: InstanceCommit): Promise<CommitResult> {
    const instance = this.instances.get(change.instanceId);
    if (!instance) return { ok: false, reason: 'not_found' };
    const conflict = (message: string): CommitResult => ({ ok: false, reason: 'conflict', currentRevision: instance.revision, message });
    if (instance.revision !== change.expectedRevision) {
      return conflict(`the instance is at revision ${instance.revision}, not ${change.expectedRevision}`);
    }
    const live = new Set(instance.tokens.map((token) => token.id));
    const missing = change.consume.find((id) => !live.has(id));
    if (missing !== undefined) return conflict(`token ${missing} is not live`);
    const used = change.enqueue?.find((entry) => this.outbox.has(entry.firingId));
    if (used) return conflict(`firing ${used.firingId} is already in the outbox`);
    const consumed = new Set(change.consume);
    instance.tokens = [...instance.tokens.filter((token) => !consumed.has(token.id)), ...structuredClone([...change.produce])];
    instance.status = change.status;
    instance.marking = structuredClone(change.marking);
    instance.variables = structuredClone(change.variables);
    instance.error = change.error && { ...change.error };
    instance.revision += 1;
    instance.updatedAt = Math.max(instance.updatedAt, ...change.events.map((event) => event.at));
    for (const entry of change.enqueue ?? []) this.outbox.set(entry.firingId, pending(entry));
    for (const settled of change.settle ?? []) {
      const entry = this.outbox.get(settled.firingId);
      if (!entry) continue;
      Object.assign(entry, {
        status: settled.status,
        output: structuredClone(settled.output),
        leaseOwner: undefined,
        leaseUntil: undefined,
      });
      if (settled.error !== undefined) entry.lastError = settled.error;
    }
    for (const id of change.cancelTimers ?? []) this.timers.delete(id);
    for (const timer of change.schedule ?? []) if (!this.timers.has(timer.id)) this.timers.set(timer.id, { ...timer });
    return { ok: true, revision: instance.revision, events: this.append(instance.id, instance.workflowId, change.events) };
  }

  async readEvents(instanceId: string, options: { afterSequence?: number; limit?: number } = {}): Promise<WorkflowEvent[]> {
    const after = options.afterSequence ?? 0;
    const events = (this.events.get(instanceId) ?? []).filter((event) => event.sequence > after);
    return structuredClone(events.slice(0, options.limit ?? 1000));
  }

  async claimOutbox(options: { owner: string; now: number; leaseMs: number; limit: number }): Promise<OutboxEntry[]> {
    const claimed: OutboxEntry[] = [];
    const candidates = [...this.outbox.values()]
      .filter((entry) => entry.status === 'pending' && entry.availableAt <= options.now)
      .filter((entry) => entry.leaseUntil === undefined || entry.leaseUntil <= options.now)
      .sort((left, right) => left.availableAt - right.availableAt);
    for (const entry of candidates.slice(0, options.limit)) {
      entry.leaseOwner = options.owner;
      entry.leaseUntil = options.now + options.leaseMs;
      entry.attempts += 1;
      claimed.push(structuredClone(entry));
    }
    return claimed;
  }

  async releaseOutbox(firingId: string, options: { owner: string; availableAt: number; error?: string }): Promise<void> {
    const entry = this.outbox.get(firingId);
    if (!entry || entry.status !== 'pending' || entry.leaseOwner !== options.owner) return;
    Object.assign(entry, { leaseOwner: undefined, leaseUntil: undefined, availableAt: options.availableAt });
    if (options.error !== undefined) entry.lastError = options.error;
  }

  async getOutbox(firingId: string): Promise<OutboxEntry | undefined> {
    const entry = this.outbox.get(firingId);
    return entry && structuredClone(entry);
  }

  async dueTimers(now: number, limit: number): Promise<TimerEntry[]> {
    return [...this.timers.values()]
      .filter((timer) => timer.dueAt <= now)
      .sort((left, right) => left.dueAt - right.dueAt)
      .slice(0, limit)
      .map((timer) => ({ ...timer }));
  }

  async nextTimerAt(): Promise<number | undefined> {
    let next: number | undefined;
    for (const timer of this.timers.values()) if (next === undefined || timer.dueAt < next) next = timer.dueAt;
    return next;
  }

  private append(instanceId: string, workflowId: string, events: readonly NewWorkflowEvent[]): WorkflowEvent[] {
    const log = this.events.get(instanceId) ?? [];
    const added = events.map((event, index) => ({ ...structuredClone(event), instanceId, workflowId, sequence: log.length + index + 1 }));
    log.push(...added);
    this.events.set(instanceId, log);
    return structuredClone(added);
  }
}

function pending(entry: NewOutboxEntry): OutboxEntry {
  return {
    ...structuredClone(entry),
    status: 'pending',
    attempts: 0,
    leaseOwner: undefined,
    leaseUntil: undefined,
    lastError: undefined,
    output: undefined,
  };
}
