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
  'AGENT_COMPLETED',
  'AGENT_FAILED',
];

/**
 * Publishes one run's events in order without making the run wait on the bus: each publish is handed
 * to the bus at once (the bus keeps publish order per topic) and `flush()` waits for all of them. A
 * failing publish is logged, never fails the run: events are a view, the execution record is the truth.
 */
export class AgentEventPublisher {
  private readonly pending: Promise<void>[] = [];
  private readonly topic: string;

  constructor(
    private readonly bus: EventBus | undefined,
    site: AgentSite,
    private readonly logger: Logger,
  ) {
    this.topic = topics.workflowInstance(site.workflowId, site.instanceId);
  }

  publish(event: AgentEvent): void {
    if (!this.bus) return;
    this.pending.push(
      this.bus
        .publish(this.topic, event)
        .catch((error: unknown) =>
          this.logger.warn('agent event not published', { type: event.type, executionId: event.executionId, error: String(error) }),
        ),
    );
  }

  async flush(): Promise<void> {
    await Promise.all(this.pending.splice(0));
  }
}
