import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { ErrorCode, GatewayError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { ActionExecutorRegistry } from '../engine/action-executor.js';
import { findBinding, markingEnables } from '../engine/enabling.js';
import type { GuardOutcome } from '../engine/enabling.js';
import { planFiring, planTermination } from '../engine/firing.js';
import type { FiringRefusal } from '../engine/firing.js';
import { isBusyPlace } from '../engine/instance-status.js';
import { planStart } from '../engine/start-instance.js';
import { triggerKind } from '../engine/workflow-definition.js';
import type { TriggerKind } from '../engine/workflow-definition.js';
import { terminalStatuses } from '../engine/workflow-instance.js';
import type { JsonObject, WorkflowEvent, WorkflowInstance } from '../engine/workflow-instance.js';
import type { RuleRegistry } from '../rules/index.js';
import type { EventBus } from '../streaming/event-bus.js';
import type { WorkflowRepository } from '../storage/workflow-repository.js';
import { EventTriggerBridge } from './event-trigger-bridge.js';
import { WorkflowCatalog } from './workflow-catalog.js';
import { defaultRunnerOptions, WorkflowRunner } from './workflow-runner.js';
import type { WorkflowRunnerOptions } from './workflow-runner.js';

/** A transition as `GET .../transitions` shows it: can the marking fire it, and what its guard says now. */
export interface TransitionView {
  id: string;
  name: string | undefined;
  trigger: TriggerKind;
  action: 'none' | 'agent' | 'function';
  /** The marking has the tokens (and the output places the room). */
  enabled: boolean;
  /** The guard's verdict on the tokens it would take, with no input (a manual firing's data may change it). */
  guard: GuardOutcome | undefined;
  /** Enabled, guard passing, and fireable by hand (manual trigger). */
  available: boolean;
}

export interface WorkflowServiceDeps {
  repository: WorkflowRepository;
  bus: EventBus;
  clock: Clock;
  logger: Logger;
  rules?: RuleRegistry;
  runner?: Partial<WorkflowRunnerOptions>;
}

/**
 * The workflow use cases every front door shares (REST, GraphQL, MCP, CLI): publish definitions, start
 * instances, fire manual transitions with optimistic concurrency, cancel, inspect; and the runtime
 * (automatic firing, outbox, timers) started with the container. Agents and functions plug in through
 * `actions` (executors) and `catalog.registerActionCheck` (publish-time checks).
 */
export class WorkflowService {
  readonly catalog: WorkflowCatalog;
  readonly actions = new ActionExecutorRegistry();
  readonly runner: WorkflowRunner;
  /** Internal bus events (function completions, custom events) delivered to event transitions (started with the runtime). */
  readonly eventTriggers: EventTriggerBridge;
  private readonly repository: WorkflowRepository;

  constructor(private readonly deps: WorkflowServiceDeps) {
    this.repository = deps.repository;
    this.catalog = new WorkflowCatalog(deps.repository, deps.clock, deps.rules);
    this.runner = new WorkflowRunner(deps.repository, this.catalog, this.actions, deps.bus, deps.clock, deps.logger, {
      ...defaultRunnerOptions,
      ...deps.runner,
    });
    this.eventTriggers = new EventTriggerBridge(deps.bus, (type, data) => this.deliverEvent(type, data), deps.logger);
  }

  async start(): Promise<void> {
    await this.runner.start();
    this.eventTriggers.start();
  }

  async stop(): Promise<void> {
    this.eventTriggers.stop();
    await this.eventTriggers.idle();
    return this.runner.stop();
  }

  /** Starts an instance of the latest version (or `version`), then lets automatic transitions run. */
  async startInstance(
    workflowId: string,
    input: { initialData?: JsonObject; metadata?: JsonObject; variables?: JsonObject; version?: number },
  ): Promise<WorkflowInstance> {
    const record = await this.catalog.get(workflowId, input.version);
    const workflow = await this.catalog.compiledFor(record.workflowId, record.version);
    const instanceId = `wi_${randomUUID().replaceAll('-', '')}`;
    const planned = planStart(
      workflow,
      {
        instanceId,
        workflowId: record.workflowId,
        version: record.version,
        initialData: input.initialData ?? {},
        metadata: input.metadata ?? {},
        variables: input.variables ?? {},
      },
      this.runner.context(),
    );
    if (!planned.ok) throw new GatewayError(ErrorCode.workflowInvalid, planned.message, { status: 422, param: 'initialData' });
    const created = await this.repository.createInstance(planned.start);
    if (!created.ok)
      throw new GatewayError(ErrorCode.internal, 'An instance id was generated twice; try again.', { status: 500, isRetryable: true });
    this.runner.publish(created.events);
    await this.runner.advance(instanceId);
    return this.getInstance(instanceId);
  }

  async getInstance(instanceId: string): Promise<WorkflowInstance> {
    const instance = await this.repository.getInstance(instanceId);
    if (!instance) throw new GatewayError(ErrorCode.notFound, `There is no workflow instance '${instanceId}'.`, { status: 404 });
    return instance;
  }

  listInstances(filter: { workflowId?: string; limit?: number } = {}): Promise<WorkflowInstance[]> {
    return this.repository.listInstances(filter);
  }

  /** Every transition of the instance's version with what the marking and the guard say now. */
  async transitions(instanceId: string): Promise<{ instance: WorkflowInstance; transitions: TransitionView[] }> {
    const instance = await this.getInstance(instanceId);
    const workflow = await this.catalog.compiledFor(instance.workflowId, instance.version);
    const finished = terminalStatuses.includes(instance.status);
    const transitions = workflow.ordered.map((transition): TransitionView => {
      const trigger = triggerKind(transition.definition.trigger);
      const enabled = !finished && markingEnables(workflow, transition, instance.tokens);
      const found = enabled
        ? findBinding(workflow, transition, instance.tokens, { variables: instance.variables, input: {}, explain: true })
        : undefined;
      const guard =
        found === undefined ? undefined : found.ok ? found.binding.guard : found.reason === 'guard_failed' ? found.guard : undefined;
      const action = transition.definition.action === 'none' ? 'none' : 'agent' in transition.definition.action ? 'agent' : 'function';
      return {
        id: transition.definition.id,
        name: transition.definition.name,
        trigger,
        action,
        enabled,
        guard,
        available: enabled && trigger === 'manual' && guard?.passed === true,
      };
    });
    return { instance, transitions };
  }

  /**
   * Fires a manual transition. With `expectedRevision`, the firing is refused (409 `revision_conflict`)
   * when the instance has moved on; without it, the current revision is used (and re-read on a race).
   */
  async fire(
    instanceId: string,
    transitionId: string,
    input: { data?: JsonObject; expectedRevision?: number },
  ): Promise<{ instance: WorkflowInstance; firingId: string }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const instance = await this.getInstance(instanceId);
      if (input.expectedRevision !== undefined && instance.revision !== input.expectedRevision)
        throw revisionConflict(instance.revision, input.expectedRevision);
      const workflow = await this.catalog.compiledFor(instance.workflowId, instance.version);
      const plan = planFiring(workflow, instance, transitionId, { via: 'manual', input: input.data ?? {} }, this.runner.context());
      if (!plan.ok) throw refusalError(plan);
      const result = await this.runner.commit(plan.commit);
      if (result.ok) {
        await this.runner.advance(instanceId);
        return { instance: await this.getInstance(instanceId), firingId: plan.firingId };
      }
      if (result.reason === 'not_found') break;
      if (input.expectedRevision !== undefined) throw revisionConflict(result.currentRevision, input.expectedRevision);
    }
    throw new GatewayError(
      ErrorCode.revisionConflict,
      `The instance kept changing while transition '${transitionId}' was being fired; read it again and retry.`,
      { status: 409, isRetryable: true },
    );
  }

  /** Cancels a running or waiting instance; in-flight actions are settled and their outputs will be dropped. */
  async cancel(instanceId: string, reason = 'cancelled through the API'): Promise<WorkflowInstance> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const instance = await this.getInstance(instanceId);
      if (terminalStatuses.includes(instance.status)) {
        throw new GatewayError(
          ErrorCode.transitionNotEnabled,
          `The instance is already ${instance.status}; only running or waiting instances can be cancelled.`,
          { status: 409 },
        );
      }
      const workflow = await this.catalog.compiledFor(instance.workflowId, instance.version);
      const result = await this.runner.commit(
        planTermination(workflow, instance, { status: 'cancelled', code: 'cancelled', message: reason }, this.runner.context()),
      );
      if (result.ok) return this.getInstance(instanceId);
    }
    throw new GatewayError(ErrorCode.revisionConflict, 'The instance kept changing while it was being cancelled; retry.', {
      status: 409,
      isRetryable: true,
    });
  }

  /** The instance's event log after `afterSequence`. */
  async history(instanceId: string, options: { afterSequence?: number; limit?: number } = {}): Promise<WorkflowEvent[]> {
    await this.getInstance(instanceId);
    return this.repository.readEvents(instanceId, options);
  }

  /**
   * Delivers an event (a webhook, an internal event) to every waiting or running instance with an
   * enabled event transition of that type whose filter passes; returns the firings made.
   */
  async deliverEvent(
    type: string,
    data: JsonObject,
    options: { workflowId?: string } = {},
  ): Promise<{ instanceId: string; transitionId: string; firingId: string }[]> {
    const fired: { instanceId: string; transitionId: string; firingId: string }[] = [];
    const instances = await this.repository.listInstances({ ...options, statuses: ['waiting', 'running'], limit: 10_000 });
    for (const candidate of instances) {
      const workflow = await this.catalog.compiledFor(candidate.workflowId, candidate.version);
      for (const transition of workflow.ordered) {
        const trigger = transition.definition.trigger;
        if (typeof trigger !== 'object' || !('event' in trigger) || trigger.event.type !== type) continue;
        const instance = await this.repository.getInstance(candidate.id);
        if (!instance) continue;
        const plan = planFiring(
          workflow,
          instance,
          transition.definition.id,
          { via: 'event', input: data, event: { type, data } },
          this.runner.context(),
        );
        if (!plan.ok) continue;
        const result = await this.runner.commit(plan.commit);
        if (!result.ok) continue;
        fired.push({ instanceId: instance.id, transitionId: transition.definition.id, firingId: plan.firingId });
        await this.runner.advance(instance.id);
      }
    }
    return fired;
  }
}

/** The place of the instance's only token, when it has exactly one outside a busy place (the seed's `currentPlace`). */
export function currentPlace(instance: WorkflowInstance): string | null {
  const [only, ...rest] = instance.tokens;
  return only !== undefined && rest.length === 0 && !isBusyPlace(only.place) ? only.place : null;
}

function revisionConflict(current: number | undefined, expected: number): GatewayError {
  return new GatewayError(
    ErrorCode.revisionConflict,
    `The instance is at revision ${current ?? 'unknown'}, not ${expected}: someone else changed it first. Read it again (GET the instance) and decide whether to fire with the new revision.`,
    { status: 409, param: 'expectedRevision' },
  );
}

function refusalError(refusal: FiringRefusal): GatewayError {
  switch (refusal.reason) {
    case 'unknown_transition':
      return new GatewayError(ErrorCode.notFound, refusal.message, { status: 404, param: 'transitionId' });
    case 'guard_failed': {
      const error = new GatewayError(ErrorCode.guardFailed, `${refusal.message}:\n${refusal.guard.explanation}`, {
        status: 422,
        param: 'transitionId',
      });
      return error;
    }
    case 'schema_invalid':
      return new GatewayError(ErrorCode.workflowInvalid, refusal.message, { status: 422, param: 'data' });
    case 'instance_finished':
    case 'wrong_trigger':
    case 'not_enabled':
    case 'capacity':
      return new GatewayError(ErrorCode.transitionNotEnabled, refusal.message, { status: 409, param: 'transitionId' });
  }
}
