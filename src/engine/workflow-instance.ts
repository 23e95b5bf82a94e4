/**
 * The run-time vocabulary of the engine: tokens, instances, markings and the events of an instance's
 * log. Plain data (JSON-serialisable), shared by the engine, the storage port and the front doors.
 */

/** JSON data as carried by tokens and variables. */
export type JsonObject = Record<string, unknown>;

export const InstanceStatus = {
  /** Some automatic or timer transition is enabled, or an action is in flight. */
  running: 'running',
  /** Only manual or event transitions are enabled: the instance waits for a person or an event. */
  waiting: 'waiting',
  /** A final place holds a token and nothing else is pending. */
  completed: 'completed',
  /** No transition can ever fire and the instance is not completed. */
  deadlocked: 'deadlocked',
  /** An action failed for good (its retries are spent); see the instance's `error`. */
  failed: 'failed',
  cancelled: 'cancelled',
} as const;
export type InstanceStatus = (typeof InstanceStatus)[keyof typeof InstanceStatus];

/** Statuses an instance never leaves. */
export const terminalStatuses: readonly InstanceStatus[] = ['completed', 'deadlocked', 'failed', 'cancelled'];

/** A token: data resting in a place, with its lineage. */
export interface Token {
  id: string;
  instanceId: string;
  place: string;
  data: JsonObject;
  metadata: JsonObject;
  /** The firing that produced it; undefined for the tokens an instance starts with. */
  createdBy: string | undefined;
  /** The tokens consumed by that firing. */
  parents: string[];
  /** Epoch ms. */
  createdAt: number;
}

/** Token counts per place (places with no token are absent). */
export type Marking = Record<string, number>;

/** One run of a workflow version. `tokens` are the live ones (consumed tokens live on in the event log). */
export interface WorkflowInstance {
  id: string;
  workflowId: string;
  /** The definition version the instance runs on, for its whole life. */
  version: number;
  status: InstanceStatus;
  marking: Marking;
  tokens: Token[];
  variables: JsonObject;
  metadata: JsonObject;
  /** Bumped by every committed change; a firing names the revision it was computed from. */
  revision: number;
  /** Why the instance failed or deadlocked. */
  error: { code: string; message: string } | undefined;
  createdAt: number;
  updatedAt: number;
}

/** Event types in the instance log and on the bus (the seed's names). */
export const WorkflowEventType = {
  instanceCreated: 'INSTANCE_CREATED',
  transition: 'WORKFLOW_TRANSITION',
  tokenCreated: 'TOKEN_CREATED',
  tokenConsumed: 'TOKEN_CONSUMED',
  actionStarted: 'ACTION_STARTED',
  actionCompleted: 'ACTION_COMPLETED',
  statusChanged: 'STATUS_CHANGED',
  completion: 'COMPLETION',
  error: 'ERROR',
  cancelled: 'CANCELLED',
} as const;
export type WorkflowEventType = (typeof WorkflowEventType)[keyof typeof WorkflowEventType];

/** An event before the store has given it a sequence number. */
export interface NewWorkflowEvent {
  type: WorkflowEventType | (string & {});
  /** The firing it belongs to, when any. */
  firingId?: string | undefined;
  /** Epoch ms. */
  at: number;
  data: JsonObject;
}

/** An event as recorded in the instance's append-only log. */
export interface WorkflowEvent extends NewWorkflowEvent {
  instanceId: string;
  workflowId: string;
  /** 1, 2, 3, ... per instance, without gaps; the SSE `id:` (Last-Event-ID resumes after it). */
  sequence: number;
}

/** Counts tokens per place. */
export function markingOf(tokens: readonly Pick<Token, 'place'>[]): Marking {
  const marking: Marking = {};
  for (const token of tokens) marking[token.place] = (marking[token.place] ?? 0) + 1;
  return marking;
}
