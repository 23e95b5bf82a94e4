import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { BusMessage, BusSubscription, EventBus } from './event-bus.js';
import { topicMatches } from './event-bus.js';

interface Subscriber {
  pattern: string;
  handler: (message: BusMessage) => void;
  active: boolean;
}

/** The default bus: subscribers in this process only. Handlers run on a microtask, never inside `publish`. */
export class MemoryEventBus implements EventBus {
  readonly kind = 'memory';
  private readonly subscribers = new Set<Subscriber>();

  constructor(
    private readonly clock: Clock = systemClock,
    private readonly logger?: Logger,
  ) {}

  publish<T>(topic: string, payload: T): Promise<void> {
    const message: BusMessage = { topic, payload, publishedAt: this.clock.now() };
    const targets = [...this.subscribers].filter((subscriber) => topicMatches(subscriber.pattern, topic));
    if (targets.length > 0)
      queueMicrotask(() => {
        for (const subscriber of targets) if (subscriber.active) deliver(subscriber, message, this.logger);
      });
    return Promise.resolve();
  }

  subscribe<T = unknown>(pattern: string, handler: (message: BusMessage<T>) => void): BusSubscription {
    const subscriber: Subscriber = { pattern, handler: handler as (message: BusMessage) => void, active: true };
    this.subscribers.add(subscriber);
    return {
      unsubscribe: () => {
        subscriber.active = false;
        this.subscribers.delete(subscriber);
      },
    };
  }

  close(): Promise<void> {
    for (const subscriber of this.subscribers) subscriber.active = false;
    this.subscribers.clear();
    return Promise.resolve();
  }
}

function deliver(subscriber: Subscriber, message: BusMessage, logger: Logger | undefined): void {
  try {
    subscriber.handler(message);
  } catch (error) {
    logger?.warn('event bus: a subscriber failed', { topic: message.topic, error: String(error) });
  }
}
