import type { Logger } from '../core/logger.js';
import type { EventBus } from '../streaming/event-bus.js';
import { topics } from '../streaming/event-bus.js';

/** Where in a workflow an agent runs: the ids its events and records carry. */
export interface AgentSite {
  workflowId: string;
  instanceId: string;
  transitionId?: string;
  placeId?: string;
  /** The engine firing this run belongs to (the action's idempotency key). */
  firingId?: string;
}

interface AgentEventBase {
  agentId: string;
  executionId: string;
  workflowId: string;
  instanceId: string;
  transitionId?: string;
  placeId?: string;
  /** Epoch ms. */
  at: number;
}

/**
 * What an agent run publishes on its instance's topic (`topics.workflowInstance`), in the seed's
 * event names. `AGENT_THINKING` carries a status (`started`, `retrying`): the providers' stream parts
 * carry no reasoning text through the router today, so there is no thinking delta to forward.
 */
export type AgentEvent =
  | (AgentEventBase & { type: 'AGENT_THINKING'; status: 'started' | 'retrying'; attempt: number; model: string; reason?: string })
  | (AgentEventBase & { type: 'AGENT_CONTENT'; content: string; attempt: number })
  | (AgentEventBase & { type: 'AGENT_TOOL_CALL'; toolCallId: string; name: string; arguments: string; attempt: number })
  | (AgentEventBase & { type: 'AGENT_TOOL_RESULT'; toolCallId: string; name: string; result: string; ok: boolean; attempt: number })
  | (AgentEventBase & {
      type: 'AGENT_COMPLETED';
      provider: string | null;
      model: string | null;
      promptTokens: number;
      completionTokens: number;
      costUsd: number | null;
      durationMs: number;
    })
  | (AgentEventBase & { type: 'AGENT_FAILED'; code: string; message: string; attempts: number });

export type AgentEventType = AgentEvent['type'];

/** Every agent event type, for subscribers that filter. */
export const agentEventTypes: readonly AgentEventType[] = [
  'AGENT_THINKING',
  'AGENT_CONTENT',
  'AGENT_TOOL_CALL',
  'AGENT_TOOL_RESULT',
  'AGENT_COMPLETED',
  'AGENT_FAILED',
];

/**
 * An agent event as it travels on the bus: the engine's live-progress shape (`live: true`, not in the
 * instance's log, so it has no sequence number), which the instance's SSE stream forwards as
 * `event: AGENT_CONTENT` etc. The agent's fields are in `data`.
 */
export interface AgentProgressMessage {
  type: AgentEventType;
  live: true;
  workflowId: string;
  instanceId: string;
  firingId: string | null;
  data: AgentEvent;
}

/** The engine's progress sink of an action (`ActionRequest.emit`). */
export type ProgressSink = (event: { type: string; data: Record<string, unknown> }) => void;

/**
 * Publishes one run's events in order without making the run wait on the bus. Inside a firing they go
 * through the engine's `emit` (which adds the ids and `live: true`); otherwise straight to the bus in
 * the same shape. `flush()` waits for what was handed to the bus. A failing publish is logged, never
 * fails the run: events are a view, the execution record is the truth.
 */
export class AgentEventPublisher {
  private readonly pending: Promise<void>[] = [];
  private readonly topic: string;

  constructor(
    private readonly bus: EventBus | undefined,
    private readonly site: AgentSite,
    private readonly logger: Logger,
    private readonly emit?: ProgressSink,
  ) {
    this.topic = topics.workflowInstance(site.workflowId, site.instanceId);
  }

  publish(event: AgentEvent): void {
    if (this.emit) {
      try {
        this.emit({ type: event.type, data: { ...event } });
      } catch (error) {
        this.logger.warn('agent event not published', { type: event.type, executionId: event.executionId, error: String(error) });
      }
      return;
    }
    if (!this.bus) return;
    const message: AgentProgressMessage = {
      type: event.type,
      live: true,
      workflowId: this.site.workflowId,
      instanceId: this.site.instanceId,
      firingId: this.site.firingId ?? null,
      data: event,
    };
    this.pending.push(
      this.bus
        .publish(this.topic, message)
        .catch((error: unknown) =>
          this.logger.warn('agent event not published', { type: event.type, executionId: event.executionId, error: String(error) }),
        ),
    );
  }

  async flush(): Promise<void> {
    await Promise.all(this.pending.splice(0));
  }
}
