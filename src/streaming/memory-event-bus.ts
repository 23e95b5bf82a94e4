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
  /** Subscribers by topic, so a publish matches patterns once per topic until the subscriptions change. */
  private readonly matching = new Map<string, Subscriber[]>();

  constructor(
    private readonly clock: Clock = systemClock,
    private readonly logger?: Logger,
  ) {}

  publish<T>(topic: string, payload: T): Promise<void> {
    const message: BusMessage = { topic, payload, publishedAt: this.clock.now() };
    const targets = this.targets(topic);
    if (targets.length > 0)
      queueMicrotask(() => {
        for (const subscriber of targets) if (subscriber.active) deliver(subscriber, message, this.logger);
      });
    return Promise.resolve();
  }

  listened(topic: string): boolean {
    return this.targets(topic).length > 0;
  }

  private targets(topic: string): Subscriber[] {
    let targets = this.matching.get(topic);
    if (targets === undefined) {
      targets = [...this.subscribers].filter((subscriber) => topicMatches(subscriber.pattern, topic));
      // Per-instance and per-completion topics are many: only a bounded number of topics is remembered.
      if (this.matching.size >= 1_000) this.matching.clear();
      this.matching.set(topic, targets);
    }
    return targets;
  }

  subscribe<T = unknown>(pattern: string, handler: (message: BusMessage<T>) => void): BusSubscription {
    const subscriber: Subscriber = { pattern, handler: handler as (message: BusMessage) => void, active: true };
    this.subscribers.add(subscriber);
    this.matching.clear();
    return {
      unsubscribe: () => {
        subscriber.active = false;
        if (this.subscribers.delete(subscriber)) this.matching.clear();
      },
    };
  }

  close(): Promise<void> {
    for (const subscriber of this.subscribers) subscriber.active = false;
    this.subscribers.clear();
    this.matching.clear();
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
