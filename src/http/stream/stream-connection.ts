import type { AppContainer } from '../../app/container.js';
import { completionEvents } from '../../app/completion-events.js';
import type { Authenticated } from '../../auth/key-authenticator.js';
import { ErrorCode, GatewayError, invalidRequest } from '../../core/errors.js';
import { newRequestId } from '../../core/ids.js';
import type { BusSubscription } from '../../streaming/event-bus.js';
import { safeToken, topics } from '../../streaming/event-bus.js';
import { mapError } from '../error-mapper.js';
import { parseChatRequest } from '../schemas/parse-chat-request.js';
import { validateBody } from '../validate.js';
import { clientMessageSchema } from './stream-messages.js';
import type { ClientMessage, ServerMessage } from './stream-messages.js';

/** The part of a `ws` WebSocket this protocol uses (so tests can hand in a fake). */
export interface StreamSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface StreamLimits {
  /** Bytes queued on the socket past which a request stops reading its upstream until the client catches up. */
  highWaterBytes: number;
  /** How long a request may stay paused that way before it is cancelled with `slow_consumer`. */
  stallTimeoutMs: number;
  /** Requests running at once on one socket. */
  maxConcurrent: number;
  /** Subscriptions open at once on one socket. */
  maxSubscriptions: number;
  /** Time to send `{type: 'auth'}` when the handshake carried no usable key. */
  authTimeoutMs: number;
}

export const defaultStreamLimits: StreamLimits = {
  highWaterBytes: 1024 * 1024,
  stallTimeoutMs: 30_000,
  maxConcurrent: 16,
  maxSubscriptions: 32,
  authTimeoutMs: 10_000,
};

/** Close codes: 4401 no valid key; 4400 a message that is not JSON at all. */
export const StreamCloseCode = { unauthorized: 4401 } as const;

const open = 1;

/**
 * One `/stream` WebSocket: the seed's JSON protocol (docs/streaming.md). Several completions run at
 * once, each under its client-chosen `id`, through the same admission and ledger as REST (endpoint
 * `stream`); `cancel` or the socket closing aborts the upstream request. Writes are bounded: when the
 * socket's send queue passes `highWaterBytes` a request stops reading its upstream (so the upstream's
 * own flow control holds the rest), and after `stallTimeoutMs` of that it is cancelled with
 * `slow_consumer` rather than buffered without bound.
 */
export class StreamConnection {
  private auth: Authenticated | undefined;
  private authTimer: NodeJS.Timeout | undefined;
  private readonly requests = new Map<string, AbortController>();
  private readonly subscriptions = new Map<string, BusSubscription>();
  private closed = false;
  /** Messages are dispatched one after the other (an `auth` completes before the next message is read); completions then run on their own. */
  private chain: Promise<void> = Promise.resolve();
  /** Running completions, for tests and shutdown. */
  readonly running = new Set<Promise<void>>();

  constructor(
    private readonly socket: StreamSocket,
    private readonly container: AppContainer,
    private readonly connectionId: string,
    private readonly limits: StreamLimits = defaultStreamLimits,
  ) {}

  /**
   * Starts the connection with the handshake's outcome (authenticated, refused, or waiting for an `auth`
   * message); messages received meanwhile wait for it.
   */
  start(handshake: Promise<{ auth: Authenticated } | { error: unknown } | 'pending'>): Promise<void> {
    this.chain = this.chain.then(async () => this.begin(await handshake));
    return this.chain;
  }

  /** Queues one text frame from the client; resolves once it is dispatched (a completion then runs on its own). */
  receive(data: string): Promise<void> {
    this.chain = this.chain.then(() => this.dispatch(data)).catch((error: unknown) => this.fail(null, error));
    return this.chain;
  }

  private begin(handshake: { auth: Authenticated } | { error: unknown } | 'pending'): void {
    if (handshake === 'pending') {
      this.authTimer = setTimeout(
        () => this.refuse(new GatewayError(ErrorCode.authentication, 'No key: send {"type":"auth","key":"cb_…"} first.', { status: 401 })),
        this.limits.authTimeoutMs,
      );
      this.authTimer.unref();
      return;
    }
    if ('error' in handshake) this.refuse(handshake.error);
    else this.auth = handshake.auth;
  }

  private async dispatch(data: string): Promise<void> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      this.fail(null, invalidRequest('Messages are JSON objects such as {"type":"ping"}.'));
      return;
    }
    let message: ClientMessage;
    try {
      message = validateBody(clientMessageSchema, parsed);
    } catch (error) {
      this.fail(idOf(parsed), error);
      return;
    }
    if (message.type === 'auth') return this.authenticate(message.key);
    if (message.type === 'ping') return this.send(message.id === undefined ? { type: 'pong' } : { type: 'pong', id: message.id });
    if (!this.auth) {
      this.fail(
        idOf(parsed),
        new GatewayError(ErrorCode.authentication, 'Not authenticated yet: send {"type":"auth","key":"cb_…"} first.', { status: 401 }),
      );
      return;
    }
    switch (message.type) {
      case 'completion': {
        const run = this.complete(message, this.auth);
        this.running.add(run);
        void run.finally(() => this.running.delete(run));
        return;
      }
      case 'cancel':
        return this.cancel(message.id);
      case 'subscribe':
        return this.subscribe(message);
      case 'unsubscribe': {
        const subscription = this.subscriptions.get(message.id);
        if (!subscription) return this.fail(message.id, notFound(`There is no subscription '${message.id}' on this socket.`));
        subscription.unsubscribe();
        this.subscriptions.delete(message.id);
        return this.send({ type: 'unsubscribed', id: message.id });
      }
    }
  }

  /** The socket closed: every running request is cancelled upstream, every subscription dropped. */
  closeAll(): void {
    this.closed = true;
    clearTimeout(this.authTimer);
    for (const abort of this.requests.values())
      abort.abort(new GatewayError(ErrorCode.invalidRequest, 'The client closed the socket.', { status: 499 }));
    this.requests.clear();
    for (const subscription of this.subscriptions.values()) subscription.unsubscribe();
    this.subscriptions.clear();
  }

  private async authenticate(key: string): Promise<void> {
    try {
      this.auth = await this.container.authenticator.authenticate(key, false);
      clearTimeout(this.authTimer);
      this.send({ type: 'authenticated', principal: this.auth.principal.name });
    } catch (error) {
      this.refuse(error);
    }
  }

  private async complete(message: ClientMessage & { type: 'completion' }, auth: Authenticated): Promise<void> {
    const id = message.id ?? newRequestId();
    if (this.requests.has(id))
      return this.fail(id, invalidRequest(`A request '${id}' is already running on this socket; use another id.`, 'id'));
    if (this.requests.size >= this.limits.maxConcurrent)
      return this.fail(
        id,
        new GatewayError(
          ErrorCode.rateLimited,
          `At most ${this.limits.maxConcurrent} requests run at once on one socket; wait for one to finish.`,
          {
            status: 429,
          },
        ),
      );
    const abort = new AbortController();
    this.requests.set(id, abort);
    const requestId = `${this.connectionId}:${id}`;
    try {
      const { type: _type, id: _id, ...body } = message;
      const { chat, route } = parseChatRequest({ ...body, stream: true });
      this.send({ type: 'thinking_status', id, status: 'thinking' });
      const { dispatch, stream } = await this.container.completions.stream(chat, {
        requestId,
        principal: auth.principal,
        attribution: {},
        signal: abort.signal,
        endpoint: 'stream',
        route,
      });
      let finishReason: string | null = null;
      let usage: (ServerMessage & { type: 'completed' })['usage'] = null;
      for await (const event of completionEvents(stream, () => dispatch.deployment?.provider ?? 'upstream')) {
        if (event.type === 'content') await this.sendBounded({ type: 'content_chunk', id, content: event.text }, abort);
        else if (event.type === 'tool_call')
          await this.sendBounded(
            { type: 'tool_call', id, tool_call_id: event.id, tool: event.name, arguments: parseArguments(event.arguments) },
            abort,
          );
        else if (event.type === 'finish') finishReason = event.reason;
        else
          usage = {
            prompt_tokens: event.usage.promptTokens,
            completion_tokens: event.usage.completionTokens,
            total_tokens: event.usage.promptTokens + event.usage.completionTokens,
            cost_usd: event.costUsd ?? null,
          };
      }
      this.send({
        type: 'completed',
        id,
        finish_reason: finishReason,
        model: dispatch.deployment?.model.id ?? null,
        provider: dispatch.deployment?.provider ?? null,
        usage,
      });
    } catch (error) {
      const reason: unknown = abort.signal.reason;
      if (this.closed) return;
      if (abort.signal.aborted && reason instanceof GatewayError && reason.code === ErrorCode.slowConsumer) this.fail(id, reason);
      else if (abort.signal.aborted) this.send({ type: 'cancelled', id });
      else this.fail(id, error, requestId);
    } finally {
      this.requests.delete(id);
    }
  }

  private cancel(id: string): void {
    const abort = this.requests.get(id);
    if (!abort) return this.fail(id, notFound(`There is no request '${id}' running on this socket (it may have finished).`));
    abort.abort(new GatewayError(ErrorCode.invalidRequest, 'Cancelled by the client.', { status: 499 }));
  }

  private subscribe(message: ClientMessage & { type: 'subscribe' }): void {
    const id = message.id ?? message.instanceId ?? message.workflowId ?? newRequestId();
    if (this.subscriptions.has(id)) return this.fail(id, invalidRequest(`A subscription '${id}' is already open on this socket.`, 'id'));
    if (this.subscriptions.size >= this.limits.maxSubscriptions)
      return this.fail(
        id,
        new GatewayError(ErrorCode.rateLimited, `At most ${this.limits.maxSubscriptions} subscriptions per socket.`, { status: 429 }),
      );
    const topic =
      message.instanceId !== undefined
        ? message.workflowId !== undefined
          ? topics.workflowInstance(message.workflowId, message.instanceId)
          : `workflow.*.instance.${safeToken(message.instanceId)}`
        : topics.workflowInstances(message.workflowId as string);
    const subscription = this.container.events.subscribe(topic, (bus) => {
      if (this.socket.bufferedAmount > this.limits.highWaterBytes) {
        subscription.unsubscribe();
        this.subscriptions.delete(id);
        this.fail(id, slowConsumer('The subscription was ended because this client reads too slowly; resubscribe.'));
        return;
      }
      const eventType = (bus.payload as { type?: unknown } | null)?.type;
      this.send({ type: 'workflow_event', id, eventType: typeof eventType === 'string' ? eventType : null, event: bus.payload });
    });
    this.subscriptions.set(id, subscription);
    this.send({ type: 'subscribed', id, topic });
  }

  /** Sends, then waits while the socket's queue is over the high-water mark; cancels the request if it stays there. */
  private async sendBounded(message: ServerMessage, abort: AbortController): Promise<void> {
    this.send(message);
    if (this.socket.bufferedAmount <= this.limits.highWaterBytes) return;
    const deadline = Date.now() + this.limits.stallTimeoutMs;
    while (this.socket.bufferedAmount > this.limits.highWaterBytes / 2 && !this.closed && !abort.signal.aborted) {
      if (Date.now() >= deadline) {
        abort.abort(
          slowConsumer(
            `The client read too slowly (over ${this.limits.highWaterBytes} bytes queued for ${this.limits.stallTimeoutMs} ms); the request was cancelled.`,
          ),
        );
        throw abort.signal.reason;
      }
      // ws emits no drain event: poll the queue while the upstream read stays paused.
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private send(message: ServerMessage): void {
    if (this.socket.readyState === open) this.socket.send(JSON.stringify(message));
  }

  private fail(id: string | null, error: unknown, requestId = this.connectionId): void {
    const mapped = mapError(error, requestId, this.container.logger, this.container.redact).body.error;
    this.send({
      type: 'error',
      id,
      error: { code: mapped.code ?? ErrorCode.internal, message: mapped.message, ...(mapped.param ? { param: mapped.param } : {}) },
    });
  }

  private refuse(error: unknown): void {
    this.fail(null, error);
    const reason = error instanceof GatewayError ? error.code : ErrorCode.authentication;
    this.socket.close(StreamCloseCode.unauthorized, reason);
  }
}

function idOf(value: unknown): string | null {
  const id = typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : undefined;
  return typeof id === 'string' && id.length <= 128 ? id : null;
}

function notFound(message: string): GatewayError {
  return new GatewayError(ErrorCode.notFound, message, { status: 404 });
}

function slowConsumer(message: string): GatewayError {
  return new GatewayError(ErrorCode.slowConsumer, message, { status: 429 });
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
