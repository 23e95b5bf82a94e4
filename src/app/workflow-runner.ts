import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { ActionError } from '../engine/action-executor.js';
import type { ActionExecutor } from '../engine/action-executor.js';
import { planActionCompletion, planFiring, planTermination } from '../engine/firing.js';
import type { FiringContext } from '../engine/firing.js';
import { outlook } from '../engine/instance-status.js';
import { terminalStatuses } from '../engine/workflow-instance.js';
import type { WorkflowEvent, WorkflowInstance } from '../engine/workflow-instance.js';
import { topics } from '../streaming/event-bus.js';
import type { EventBus } from '../streaming/event-bus.js';
import type { CommitResult, InstanceCommit, OutboxEntry, WorkflowRepository } from '../storage/workflow-repository.js';
import type { WorkflowCatalog } from './workflow-catalog.js';

export interface WorkflowRunnerOptions {
  /** How long a claimed action is leased to this process (ms, default 300 000); it must exceed the action's own timeout. */
  leaseMs: number;
  /** How often the outbox and timers are polled when nothing wakes the loops (ms, default 500). */
  pollMs: number;
  /** Attempts of a retryable action before the instance fails (default 3). */
  maxAttempts: number;
  /** Backoff before attempt n+1: base × 2^(n-1) (ms, default 1000). */
  retryBaseMs: number;
  /** Actions run at once by this process (default 8). */
  concurrency: number;
  /** Automatic firings in a row on one instance before it fails as a runaway loop (default 1000). */
  maxSteps: number;
}

export const defaultRunnerOptions: WorkflowRunnerOptions = {
  leaseMs: 300_000,
  pollMs: 500,
  maxAttempts: 3,
  retryBaseMs: 1000,
  concurrency: 8,
  maxSteps: 1000,
};

/**
 * The engine's moving parts: commits (publishing each recorded event on the bus), the automatic firing
 * loop, the outbox worker that runs actions at least once, and durable timers. Every step re-reads the
 * instance and commits with compare-and-set, so several processes can run on one store: a lost race is
 * a conflict, and the loser re-reads.
 */
export class WorkflowRunner {
  readonly owner = `runner_${randomUUID()}`;
  private readonly running = new Map<string, AbortController>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly inFlight = new Set<Promise<void>>();
  private loop: Promise<void> | undefined;
  private stopped = true;
  private wake: (() => void) | undefined;

  constructor(
    private readonly repository: WorkflowRepository,
    private readonly catalog: WorkflowCatalog,
    private readonly executor: ActionExecutor,
    private readonly bus: EventBus,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: WorkflowRunnerOptions = defaultRunnerOptions,
  ) {}

  /** Ids and time for planning. */
  context(): FiringContext {
    return { now: this.clock.now(), newId: (kind) => `${kind === 'firing' ? 'fir' : 'tok'}_${randomUUID().replaceAll('-', '')}` };
  }

  /** Commits and, when it lands, publishes the recorded events on the bus (the log stays the truth). */
  async commit(change: InstanceCommit): Promise<CommitResult> {
    const result = await this.repository.commit(change);
    if (result.ok) {
      this.publish(result.events);
      if ((change.enqueue?.length ?? 0) > 0) this.wake?.();
    }
    return result;
  }

  publish(events: readonly WorkflowEvent[]): void {
    for (const event of events) {
      this.bus
        .publish(topics.workflowInstance(event.workflowId, event.instanceId), event)
        .catch((error: unknown) => this.logger.warn('workflow event not published', { error: String(error) }));
    }
  }

  /** Starts the background loop (outbox, timers) and resumes instances left running by a previous process. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    const running = await this.repository.listInstances({ statuses: ['running'], limit: 10_000 });
    for (const instance of running) void this.advance(instance.id);
    this.loop = this.backgroundLoop();
  }

  /**
   * Stops the loop and aborts actions in flight, giving their outbox entries back so the next start
   * (or another server) runs them again at once. After a crash, the lease expiring does the same.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const controller of this.running.values()) controller.abort(new Error('the workflow runner is stopping'));
    this.wake?.();
    await this.loop;
    await Promise.allSettled([...this.inFlight, ...this.chains.values()]);
  }

  /**
   * Fires enabled automatic transitions of one instance until none is left, one at a time per instance in
   * this process. Returns when the instance has settled (waiting, completed, an action in flight, ...).
   */
  advance(instanceId: string): Promise<void> {
    const previous = this.chains.get(instanceId) ?? Promise.resolve();
    const next = previous
      .then(() => this.advanceNow(instanceId))
      .catch((error: unknown) => this.logger.error('workflow step failed', { instanceId, error: String(error) }));
    this.chains.set(instanceId, next);
    void next.finally(() => {
      if (this.chains.get(instanceId) === next) this.chains.delete(instanceId);
    });
    return next;
  }

  private async advanceNow(instanceId: string): Promise<void> {
    for (let step = 0; step < this.options.maxSteps; step++) {
      const instance = await this.repository.getInstance(instanceId);
      if (!instance || terminalStatuses.includes(instance.status)) return;
      const workflow = await this.catalog.compiledFor(instance.workflowId, instance.version);
      const next = outlook(workflow, instance.tokens, instance.variables).automatic[0];
      if (next === undefined) return;
      const plan = planFiring(workflow, instance, next, { via: 'automatic' }, this.context());
      if (!plan.ok) return;
      await this.commit(plan.commit);
    }
    const instance = await this.repository.getInstance(instanceId);
    if (!instance || terminalStatuses.includes(instance.status)) return;
    const workflow = await this.catalog.compiledFor(instance.workflowId, instance.version);
    const message = `the instance fired ${this.options.maxSteps} automatic transitions in a row; the net loops without waiting`;
    await this.commit(planTermination(workflow, instance, { status: 'failed', code: 'step_limit', message }, this.context()));
  }

  /** Claims and runs due actions once (the loop calls it; tests call it to step). Resolves when the claimed ones are done. */
  async drainOutbox(): Promise<number> {
    const room = this.options.concurrency - this.running.size;
    if (room <= 0) return 0;
    const claimed = await this.repository.claimOutbox({
      owner: this.owner,
      now: this.clock.now(),
      leaseMs: this.options.leaseMs,
      limit: room,
    });
    const fresh = claimed.filter((entry) => !this.running.has(entry.firingId));
    await Promise.all(fresh.map((entry) => this.runAction(entry)));
    return fresh.length;
  }

  /** Fires due timers once (the loop calls it; tests call it to step). */
  async fireDueTimers(): Promise<number> {
    const due = await this.repository.dueTimers(this.clock.now(), 100);
    for (const timer of due) {
      for (let attempt = 0; attempt < 5; attempt++) {
        const instance = await this.repository.getInstance(timer.instanceId);
        if (!instance) break;
        const workflow = await this.catalog.compiledFor(instance.workflowId, instance.version);
        const plan = planFiring(workflow, instance, timer.transitionId, { via: 'timer', timerId: timer.id }, this.context());
        const change: InstanceCommit = plan.ok ? plan.commit : { ...sameState(instance), events: [], cancelTimers: [timer.id] };
        const result = await this.commit(change);
        if (result.ok || result.reason === 'not_found') {
          if (plan.ok) await this.advance(instance.id);
          break;
        }
      }
    }
    return due.length;
  }

  private runAction(entry: OutboxEntry): Promise<void> {
    const run = this.runActionNow(entry);
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
    return run;
  }

  private async runActionNow(entry: OutboxEntry): Promise<void> {
    const controller = new AbortController();
    this.running.set(entry.firingId, controller);
    try {
      const instance = await this.repository.getInstance(entry.instanceId);
      if (!instance) return;
      const workflow = await this.catalog.compiledFor(instance.workflowId, instance.version);
      let result;
      try {
        result = await this.executor.execute({
          firingId: entry.firingId,
          workflowId: entry.workflowId,
          version: instance.version,
          instanceId: entry.instanceId,
          transitionId: entry.transitionId,
          action: entry.action,
          tokens: entry.input.tokens,
          data: entry.input.data,
          variables: entry.input.variables,
          attempt: entry.attempts,
          signal: controller.signal,
          emit: (event) =>
            void this.bus.publish(topics.workflowInstance(entry.workflowId, entry.instanceId), {
              ...event,
              instanceId: entry.instanceId,
              workflowId: entry.workflowId,
              firingId: entry.firingId,
              live: true,
            }),
        });
      } catch (error) {
        if (controller.signal.aborted) {
          await this.repository.releaseOutbox(entry.firingId, { owner: this.owner, availableAt: this.clock.now() });
          return;
        }
        await this.actionFailed(entry, error, workflow);
        return;
      }
      for (let attempt = 0; attempt < 10; attempt++) {
        const current = await this.repository.getInstance(entry.instanceId);
        if (!current) return;
        const plan = planActionCompletion(workflow, current, entry, result, this.context());
        if (!plan.ok) {
          if (plan.reason === 'already_applied') {
            if ((await this.repository.getOutbox(entry.firingId))?.status === 'pending')
              await this.commit({
                ...sameState(current),
                events: [],
                settle: [{ firingId: entry.firingId, status: 'failed', error: plan.message }],
              });
            return;
          }
          const ended = await this.commit(
            planTermination(
              workflow,
              current,
              { status: 'failed', code: plan.reason, message: plan.message, firingId: entry.firingId },
              this.context(),
            ),
          );
          if (ended.ok) return;
          continue;
        }
        const committed = await this.commit(plan.commit);
        if (committed.ok) {
          await this.advance(entry.instanceId);
          return;
        }
        if (committed.reason === 'not_found') return;
      }
    } finally {
      this.running.delete(entry.firingId);
    }
  }

  private async actionFailed(
    entry: OutboxEntry,
    error: unknown,
    workflow: Awaited<ReturnType<WorkflowCatalog['compiledFor']>>,
  ): Promise<void> {
    const retryable = !(error instanceof ActionError) || error.retryable;
    const message = error instanceof Error ? error.message : String(error);
    if (retryable && entry.attempts < this.options.maxAttempts) {
      const delay = this.options.retryBaseMs * 2 ** (entry.attempts - 1);
      this.logger.warn('workflow action failed; retrying', {
        firingId: entry.firingId,
        attempt: entry.attempts,
        delayMs: delay,
        error: message,
      });
      await this.repository.releaseOutbox(entry.firingId, { owner: this.owner, availableAt: this.clock.now() + delay, error: message });
      return;
    }
    const code = error instanceof ActionError ? error.code : 'action_failed';
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = await this.repository.getInstance(entry.instanceId);
      if (!current || terminalStatuses.includes(current.status)) return;
      const ended = await this.commit(
        planTermination(
          workflow,
          current,
          { status: 'failed', code, message: `transition '${entry.transitionId}': ${message}`, firingId: entry.firingId },
          this.context(),
        ),
      );
      if (ended.ok || ended.reason === 'not_found') return;
    }
  }

  private async backgroundLoop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.fireDueTimers();
        await this.drainOutboxInBackground();
      } catch (error) {
        this.logger.error('workflow runner loop failed; retrying', { error: String(error) });
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Claims what there is room for and lets the actions run without holding up the loop. */
  private async drainOutboxInBackground(): Promise<void> {
    const room = this.options.concurrency - this.running.size;
    if (room <= 0) return;
    const claimed = await this.repository.claimOutbox({
      owner: this.owner,
      now: this.clock.now(),
      leaseMs: this.options.leaseMs,
      limit: room,
    });
    for (const entry of claimed) {
      if (this.running.has(entry.firingId)) continue;
      void this.runAction(entry).finally(() => this.wake?.());
    }
  }
}

/** A commit that keeps the instance as it is (used to settle or drop stale outbox entries and timers). */
export function sameState(instance: WorkflowInstance): Omit<InstanceCommit, 'events'> {
  return {
    instanceId: instance.id,
    expectedRevision: instance.revision,
    status: instance.status,
    marking: instance.marking,
    variables: instance.variables,
    error: instance.error,
    consume: [],
    produce: [],
  };
}
