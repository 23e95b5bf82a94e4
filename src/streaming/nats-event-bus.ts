import { connect } from '@nats-io/transport-node';
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { GatewayError, ErrorCode, invalidRequest } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { BusMessage, BusSubscription, EventBus } from './event-bus.js';

/** Header carrying the publish time (epoch ms); the body is the payload as JSON, readable by any NATS client. */
const publishedAtHeader = 'Cb-Published-At';

export interface NatsEventBusOptions {
  /** Subject prefix before the topic (default `cb.events`): topic `costs` travels on `cb.events.costs`. */
  subjectPrefix?: string;
  /** Name the connection shows in the server's monitoring (default `circuit-breaker`). */
  name?: string;
  clock?: Clock;
  logger?: Logger;
}

/**
 * The event bus across replicas: core NATS publish/subscribe on `cb.events.<topic>`. Topic patterns map
 * 1:1 to NATS wildcards (`*` one token, final `>` the rest), so the server does the matching. Delivery is
 * at most once to the subscribers connected at publish time, like the in-process bus: durable history is
 * the workflow store's job, not the bus's. Order per topic holds because one connection publishes in
 * order and NATS keeps a publisher's order per subscriber.
 */
export class NatsEventBus implements EventBus {
  readonly kind = 'nats';
  private readonly prefix: string;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private readonly subscriptions = new Set<Subscription>();
  private ownsConnection = true;

  private constructor(
    private readonly connection: NatsConnection,
    options: NatsEventBusOptions,
  ) {
    this.prefix = options.subjectPrefix ?? 'cb.events';
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
  }

  /**
   * Connects to the NATS server at `url` (`nats://host:4222`, credentials in the URL allowed). Rejects with
   * a `not_ready` error naming the host (never the password) when the server cannot be reached.
   */
  static async connect(url: string, options: NatsEventBusOptions = {}): Promise<NatsEventBus> {
    try {
      const connection = await connect({ servers: url, name: options.name ?? 'circuit-breaker', maxReconnectAttempts: -1 });
      return new NatsEventBus(connection, options);
    } catch (error) {
      throw new GatewayError(ErrorCode.notReady, `Cannot connect to NATS at ${describeServer(url)}: ${messageOf(error)}`, {
        status: 503,
        isRetryable: true,
        cause: error,
      });
    }
  }

  /** Wraps an open connection (shared with the workflow store); `close()` then leaves it open. */
  static over(connection: NatsConnection, options: NatsEventBusOptions = {}): NatsEventBus {
    const bus = new NatsEventBus(connection, options);
    bus.ownsConnection = false;
    return bus;
  }

  async publish<T>(topic: string, payload: T): Promise<void> {
    const subject = this.subjectOf(topic, false);
    const headers = natsHeaders();
    headers.set(publishedAtHeader, String(this.clock.now()));
    this.connection.publish(subject, JSON.stringify(payload ?? null), { headers });
    // A PING/PONG round trip: once it returns, the server has processed the publish above.
    await this.connection.flush();
  }

  subscribe<T = unknown>(pattern: string, handler: (message: BusMessage<T>) => void): BusSubscription {
    const subject = this.subjectOf(pattern, true);
    const strip = this.prefix.length + 1;
    const subscription = this.connection.subscribe(subject, {
      callback: (error, message) => {
        if (error) {
          this.logger?.warn('event bus: subscription ended', { pattern, error: messageOf(error) });
          return;
        }
        const decoded = this.decode<T>(message, strip);
        if (!decoded) return;
        try {
          handler(decoded);
        } catch (failure) {
          this.logger?.warn('event bus: a subscriber failed', { topic: decoded.topic, error: String(failure) });
        }
      },
    });
    this.subscriptions.add(subscription);
    return {
      unsubscribe: () => {
        if (!this.subscriptions.delete(subscription)) return;
        subscription.unsubscribe();
      },
    };
  }

  /** A round trip to the server, for readiness. Rejects when the connection is closed or the server is gone. */
  async ping(): Promise<void> {
    await this.connection.rtt();
  }

  async close(): Promise<void> {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions.clear();
    if (!this.ownsConnection || this.connection.isClosed()) return;
    await this.connection.drain();
  }

  private decode<T>(message: Msg, strip: number): BusMessage<T> | undefined {
    try {
      const publishedAt = Number(message.headers?.get(publishedAtHeader) ?? '') || this.clock.now();
      return { topic: message.subject.slice(strip), payload: message.json<T>(), publishedAt };
    } catch (error) {
      this.logger?.warn('event bus: dropped a message that is not JSON', { subject: message.subject, error: messageOf(error) });
      return undefined;
    }
  }

  private subjectOf(topic: string, wildcards: boolean): string {
    const tokens = topic.split('.');
    const bad = tokens.some(
      (token, index) =>
        token === '' ||
        /\s/.test(token) ||
        (!wildcards && (token === '*' || token === '>')) ||
        (token === '>' && index !== tokens.length - 1) ||
        (token !== '*' && token !== '>' && /[*>]/.test(token)),
    );
    if (bad)
      throw invalidRequest(
        `'${topic}' is not a valid event ${wildcards ? 'pattern' : 'topic'}: use dot-separated tokens without spaces${wildcards ? ", '*' for one token and a final '>' for the rest" : ' and without wildcards'}.`,
      );
    return `${this.prefix}.${topic}`;
  }
}

/** `host:port` of a NATS URL, without credentials. */
export function describeServer(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '4222'}`;
  } catch {
    return '(unparseable URL)';
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
