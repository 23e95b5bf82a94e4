import type { Logger } from '../core/logger.js';
import type { JsonObject } from '../engine/workflow-instance.js';
import type { BusMessage, BusSubscription, EventBus } from '../streaming/event-bus.js';

/**
 * Internal events that reach `event` transitions: the functions layer's FUNCTION_EXECUTING /
 * FUNCTION_COMPLETED on `functions.<name>`, and custom events on `custom.<name>`.
 */
export const internalEventPatterns = ['functions.>', 'custom.>'] as const;

/** Where events are delivered (the workflow service's `deliverEvent`). */
export type EventSink = (type: string, data: JsonObject) => Promise<unknown>;

/**
 * Feeds internal bus events to the engine's event transitions, as `POST /api/v1/workflows/events` does
 * for external ones: the payload's `type` is the event type, and the event data is the rest of the
 * payload (a function event: `functionName`, `success`, `status`, `output`/`error`, …) or a custom
 * event's `data`. Deliveries run one at a time, in arrival order; a failing one is logged.
 *
 * With a NATS bus every replica receives the event and delivers it; a firing still happens once per
 * enabled binding (optimistic concurrency), but an instance with several waiting tokens may then fire
 * once per replica.
 */
export class EventTriggerBridge {
  private subscriptions: BusSubscription[] = [];
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly events: EventBus,
    private readonly deliver: EventSink,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.subscriptions.length > 0) return;
    this.subscriptions = internalEventPatterns.map((pattern) => this.events.subscribe(pattern, (message) => this.onMessage(message)));
  }

  stop(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions = [];
  }

  /** Resolves when every event received so far has been delivered (tests, shutdown). */
  idle(): Promise<void> {
    return this.queue;
  }

  private onMessage(message: BusMessage): void {
    const event = eventOf(message);
    if (event === undefined) return;
    this.queue = this.queue
      .then(() => this.deliver(event.type, event.data))
      .then(
        () => undefined,
        (error: unknown) =>
          this.logger.warn('event transitions: delivery failed', { topic: message.topic, type: event.type, error: String(error) }),
      );
  }
}

/** The event type and data of a bus message; undefined when its payload has no `type`. */
export function eventOf(message: BusMessage): { type: string; data: JsonObject } | undefined {
  const payload = message.payload;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const { type, ...rest } = payload as Record<string, unknown>;
  if (typeof type !== 'string' || type === '') return undefined;
  const data = message.topic.startsWith('custom.') && isObject(rest['data']) ? rest['data'] : rest;
  return { type, data: data as JsonObject };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
