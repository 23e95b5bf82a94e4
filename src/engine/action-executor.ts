import type { ActionKind, ActionSpec } from './workflow-definition.js';
import type { JsonObject, Token } from './workflow-instance.js';

/**
 * The port through which the engine runs a firing's action (an agent or a function). The runtime's
 * outbox worker calls it AT LEAST ONCE per firing: after a crash, a lease expiry or a retry, the same
 * `firingId` comes again. An executor that has side effects must therefore be idempotent by
 * `firingId` (record the execution under it and return the recorded output on a repeat); the engine
 * itself applies the output once (the completion commit settles the outbox entry).
 *
 * The agents helper registers `'agent'`, the functions helper `'function'` (docs/workflows.md).
 */
export interface ActionRequest {
  /** Unique per firing; the idempotency key. */
  firingId: string;
  workflowId: string;
  /** The definition version the instance runs on. */
  version: number;
  instanceId: string;
  transitionId: string;
  /** The transition's action as written (`{ agent: 'reviewer' }`, `{ function: { ... } }`). */
  action: Exclude<ActionSpec, 'none'>;
  /** The consumed input tokens (data, metadata, lineage). */
  tokens: Token[];
  /** The input tokens' data merged (in input-arc order) with the data sent with a manual firing. */
  data: JsonObject;
  variables: JsonObject;
  /** Which attempt this is (1 for the first). */
  attempt: number;
  /** Aborted when the runtime stops or the instance is cancelled. */
  signal: AbortSignal;
  /** Streams progress (agent deltas, function logs) to the instance's event stream; not recorded in the log. */
  emit?: (event: { type: string; data: JsonObject }) => void;
}

/**
 * The action's result. An object `output` is merged into the output tokens' data; any other value is
 * stored under `result`. `variables` (optional) are merged into the instance's variables.
 */
export interface ActionResult {
  output: unknown;
  variables?: JsonObject;
}

export interface ActionExecutor {
  execute(request: ActionRequest): Promise<ActionResult>;
}

/**
 * A failure of an action. `retryable: false` fails the instance at once; otherwise the outbox retries
 * with backoff until the attempts are spent. Executors may throw anything: a non-ActionError counts
 * as retryable.
 */
export class ActionError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  constructor(code: string, message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ActionError';
    this.code = code;
    this.retryable = options.retryable;
  }
}

/** Executors by action kind; the runtime routes each request by `actionKind(request.action)`. */
export class ActionExecutorRegistry implements ActionExecutor {
  private readonly executors = new Map<Exclude<ActionKind, 'none'>, ActionExecutor>();

  /** Registers (or replaces) the executor of one kind. */
  register(kind: Exclude<ActionKind, 'none'>, executor: ActionExecutor): this {
    this.executors.set(kind, executor);
    return this;
  }

  has(kind: Exclude<ActionKind, 'none'>): boolean {
    return this.executors.has(kind);
  }

  async execute(request: ActionRequest): Promise<ActionResult> {
    const kind = 'agent' in request.action ? 'agent' : 'function';
    const executor = this.executors.get(kind);
    if (!executor) {
      throw new ActionError(
        'no_executor',
        `no executor is registered for ${kind} actions; this server cannot run transition '${request.transitionId}'`,
        {
          retryable: false,
        },
      );
    }
    return executor.execute(request);
  }
}
