/**
 * Function definitions and their executions (docs/functions.md). Definitions are stored as written
 * (JSON) with a version bumped on every update; executions are one row each, updated as they move
 * pending → running → (retrying → running)* → completed | failed | timed_out | cancelled.
 */

export const ExecutionStatus = {
  pending: 'pending',
  running: 'running',
  retrying: 'retrying',
  completed: 'completed',
  failed: 'failed',
  timedOut: 'timed_out',
  cancelled: 'cancelled',
} as const;
export type ExecutionStatus = (typeof ExecutionStatus)[keyof typeof ExecutionStatus];

/** Statuses an execution does not leave. */
export const finalStatuses: readonly ExecutionStatus[] = ['completed', 'failed', 'timed_out', 'cancelled'];

export interface StoredFunction {
  name: string;
  version: number;
  /** The definition as registered (JSON, defaults applied). */
  definition: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

/** What started an execution. */
export interface ExecutionTrigger {
  kind: 'manual' | 'event' | 'chain' | 'action' | 'tool';
  /** The event's type for `event`, the parent's function for `chain`, the transition for `action`, `<agent>/<tool>` for `tool`. */
  detail?: string;
}

export interface FunctionExecutionRecord {
  id: string;
  functionName: string;
  functionVersion: number;
  status: ExecutionStatus;
  /** The current (or last) attempt, 1-based; 0 while pending. */
  attempt: number;
  maxAttempts: number;
  input: unknown;
  output: unknown;
  error: { code: string; message: string } | null;
  /** Of the last attempt, bounded and with secret values masked. */
  stdout: string;
  stderr: string;
  exitCode: number | null;
  trigger: ExecutionTrigger;
  /** The event that started it (JSON), for TRIGGER_EVENT. */
  triggerEvent: unknown;
  workflowId: string | null;
  instanceId: string | null;
  /** The execution that chained to this one, and the first of its chain. */
  parentId: string | null;
  chainRootId: string | null;
  /** Unique when set: `firing:<id>` for engine actions, `event:<fn>:<event id>` for triggers. */
  idempotencyKey: string | null;
  createdAt: number;
  /** Not to start before (a chain's delay, a retry's backoff). */
  scheduledAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  durationMs: number | null;
}

export interface ExecutionQuery {
  functionName?: string;
  status?: ExecutionStatus;
  chainRootId?: string;
  /** Newest first; default 50, at most 500. */
  limit?: number;
}

export interface FunctionRepository {
  /** Inserts or replaces a definition; the caller sets `version`. */
  saveDefinition(stored: StoredFunction): Promise<void>;
  getDefinition(name: string): Promise<StoredFunction | undefined>;
  listDefinitions(): Promise<StoredFunction[]>;
  /** Resolves false when there was no such definition. */
  deleteDefinition(name: string): Promise<boolean>;
  /**
   * Inserts an execution. Resolves false (and inserts nothing) when one with the same idempotency key
   * exists: the caller then reads that one with `findByKey`.
   */
  insertExecution(record: FunctionExecutionRecord): Promise<boolean>;
  /** Replaces the mutable fields of an execution. */
  updateExecution(record: FunctionExecutionRecord): Promise<void>;
  getExecution(id: string): Promise<FunctionExecutionRecord | undefined>;
  findByKey(idempotencyKey: string): Promise<FunctionExecutionRecord | undefined>;
  listExecutions(query?: ExecutionQuery): Promise<FunctionExecutionRecord[]>;
  /** Executions not final whose `scheduledAt` is at or before `now` (pending after a restart, or delayed), oldest first. */
  listDue(now: number, limit: number): Promise<FunctionExecutionRecord[]>;
}
