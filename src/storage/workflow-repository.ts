import type { ActionSpec, WorkflowDefinition } from '../engine/workflow-definition.js';
import type {
  InstanceStatus,
  JsonObject,
  Marking,
  NewWorkflowEvent,
  Token,
  WorkflowEvent,
  WorkflowInstance,
} from '../engine/workflow-instance.js';

/**
 * The workflow engine's storage port. Every backend (SQLite, PostgreSQL, NATS JetStream) implements it
 * and passes `test/contract/workflow-store.contract.ts`. The one rule that makes the engine durable: every
 * change to an instance is ONE call to `commit`, applied atomically (tokens, instance state, event log,
 * outbox, timers) or not at all, and only when the instance is still at `expectedRevision`.
 *
 * Expected negatives (a version that exists, a moved revision) are values; a thrown error means the
 * backend failed (connection lost, ...) and the caller may retry.
 */
export interface WorkflowRepository {
  /** Stores a new version of a definition; `version_exists` when (workflowId, version) is taken. */
  saveDefinition(record: StoredDefinition): Promise<{ ok: true } | { ok: false; reason: 'version_exists' }>;
  /** A version of a definition; the latest when `version` is omitted. */
  getDefinition(workflowId: string, version?: number): Promise<StoredDefinition | undefined>;
  /** The latest version of every workflow, by id. */
  listDefinitions(): Promise<StoredDefinition[]>;
  /** Every version of one workflow, oldest first. */
  listVersions(workflowId: string): Promise<StoredDefinition[]>;

  /** Creates an instance with its first tokens and events (revision 1); `exists` when the id is taken. */
  createInstance(start: InstanceStart): Promise<{ ok: true; events: WorkflowEvent[] } | { ok: false; reason: 'exists' }>;
  getInstance(instanceId: string): Promise<WorkflowInstance | undefined>;
  /** Instances, newest first, optionally of one workflow and/or in some statuses. */
  listInstances(filter?: InstanceFilter): Promise<WorkflowInstance[]>;

  /** Applies one change atomically when the instance is at `expectedRevision` (see `InstanceCommit`). */
  commit(change: InstanceCommit): Promise<CommitResult>;

  /** Events of one instance with a sequence above `afterSequence` (default 0), in order, at most `limit` (default 1000). */
  readEvents(instanceId: string, options?: { afterSequence?: number; limit?: number }): Promise<WorkflowEvent[]>;

  /**
   * Leases up to `limit` pending outbox entries whose `availableAt <= now` and whose lease is free or
   * expired, for `leaseMs`, to `owner`; increments their `attempts`. Two concurrent claims never lease
   * the same entry.
   */
  claimOutbox(options: { owner: string; now: number; leaseMs: number; limit: number }): Promise<OutboxEntry[]>;
  /** Gives a leased entry back for a later attempt (`availableAt`), recording the last error. */
  releaseOutbox(firingId: string, options: { owner: string; availableAt: number; error?: string }): Promise<void>;
  getOutbox(firingId: string): Promise<OutboxEntry | undefined>;

  /** Timers with `dueAt <= now`, soonest first, at most `limit`. A timer is removed by the commit that handles it. */
  dueTimers(now: number, limit: number): Promise<TimerEntry[]>;
  /** The soonest pending timer's due time, for sleeping until then. */
  nextTimerAt(): Promise<number | undefined>;
}

/** A published version of a workflow with its analysis report. */
export interface StoredDefinition {
  workflowId: string;
  /** 1, 2, 3, ... */
  version: number;
  definition: WorkflowDefinition;
  /** The analysis report at publish (opaque to the store). */
  analysis: JsonObject;
  createdAt: number;
}

export interface InstanceFilter {
  workflowId?: string;
  statuses?: readonly InstanceStatus[];
  limit?: number;
}

/** Everything an instance starts with. */
export interface InstanceStart {
  instance: Omit<WorkflowInstance, 'tokens' | 'revision'>;
  tokens: Token[];
  events: NewWorkflowEvent[];
  outbox?: NewOutboxEntry[];
  timers?: TimerEntry[];
}

/**
 * One atomic change of an instance: typically a firing (consume and produce tokens, start an action),
 * an action's completion, a timer firing, a cancellation or a status change.
 */
export interface InstanceCommit {
  instanceId: string;
  /** The revision the change was computed from; the commit is a conflict when the instance moved on. */
  expectedRevision: number;
  /** The instance's new state. */
  status: InstanceStatus;
  marking: Marking;
  variables: JsonObject;
  error?: { code: string; message: string } | undefined;
  /** Ids of live tokens to consume; an id that is not live is a conflict. */
  consume: readonly string[];
  produce: readonly Token[];
  /** Appended to the log in order, with the next sequence numbers. */
  events: readonly NewWorkflowEvent[];
  /** Actions to run; keyed by firing id (an id already in the outbox is a conflict). */
  enqueue?: readonly NewOutboxEntry[];
  /** Outbox entries this change settles (the action's output was applied, or it failed for good). */
  settle?: readonly { firingId: string; status: 'done' | 'failed'; output?: unknown; error?: string }[];
  schedule?: readonly TimerEntry[];
  /** Timer ids to remove (fired, or no longer relevant). Unknown ids are ignored. */
  cancelTimers?: readonly string[];
}

export type CommitResult =
  | { ok: true; revision: number; events: WorkflowEvent[] }
  | { ok: false; reason: 'conflict'; currentRevision: number | undefined; message: string }
  | { ok: false; reason: 'not_found' };

/** An action to run for a firing (at least once; executors dedupe by `firingId`). */
export interface NewOutboxEntry {
  firingId: string;
  instanceId: string;
  workflowId: string;
  transitionId: string;
  action: Exclude<ActionSpec, 'none'>;
  /** What the action needs: the consumed tokens (with their data) and the variables at firing time. */
  input: { tokens: Token[]; variables: JsonObject; data: JsonObject };
  availableAt: number;
}

export type OutboxStatus = 'pending' | 'done' | 'failed';

export interface OutboxEntry extends NewOutboxEntry {
  status: OutboxStatus;
  attempts: number;
  leaseOwner: string | undefined;
  leaseUntil: number | undefined;
  lastError: string | undefined;
  output: unknown;
}

/** A durable timer: fire `transitionId` of `instanceId` at `dueAt` (epoch ms). */
export interface TimerEntry {
  /** Deterministic, so scheduling the same timer twice is harmless (the second is ignored). */
  id: string;
  instanceId: string;
  workflowId: string;
  transitionId: string;
  dueAt: number;
}
