import type { ChatRequest } from '../core/chat.js';
import { ErrorCode, GatewayError } from '../core/errors.js';
import { newCompletionId } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import type { Principal } from '../core/principal.js';
import type { Redact } from '../core/redact.js';
import type { StreamPart } from '../core/stream-part.js';
import type { EventBus } from '../streaming/event-bus.js';
import { topics } from '../streaming/event-bus.js';
import { busIterator } from '../streaming/bus-iterator.js';
import type { StreamDispatch } from './chat-service.js';
import { completionEvents } from './completion-events.js';
import type { CompletionContext, CompletionService } from './completion-service.js';

export const CompletionEventType = {
  thinking: 'THINKING',
  content: 'CONTENT',
  toolCall: 'TOOL_CALL',
  completion: 'COMPLETION',
  error: 'ERROR',
} as const;
export type CompletionEventType = (typeof CompletionEventType)[keyof typeof CompletionEventType];

/** One event of a background completion, as published on `topics.completion(id)`. */
export interface CompletionStreamEvent {
  completionId: string;
  /** 0, 1, 2… in publish order. */
  sequence: number;
  eventType: CompletionEventType;
  content: string | null;
  metadata: Record<string, unknown> | null;
  usage: { promptTokens: number; completionTokens: number; totalTokens: number; cost: number | null } | null;
  agentStatus: null;
}

export interface StartedCompletion {
  id: string;
  dispatch: StreamDispatch;
}

/** `completion.<id>.subscribed`: a subscriber tells the publisher (on whichever replica) it is listening. */
const subscribedTopic = (id: string): string => `${topics.completion(id)}.subscribed`;

interface Running {
  owner: string | null;
  abort: AbortController;
  /** Local subscribers; the last one leaving cancels the request. */
  subscribers: number;
}

/**
 * Completions started now and read later (GraphQL `createCompletion(stream: true)` → `completionStream`).
 * `start` admits and opens the stream at once, so a refusal (key scope, budget, rate limit, unknown
 * model) is the mutation's error; the upstream is read only once a subscriber says it listens (on this
 * replica or another, through the bus), so no event is published into the void. Nobody subscribing
 * within `subscribeTimeoutMs` cancels the upstream request (the ledger says `client_closed`); the last
 * subscriber leaving does too. Events go out on `topics.completion(id)`.
 */
export class CompletionStreams {
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly completions: CompletionService,
    private readonly events: EventBus,
    private readonly logger: Logger,
    private readonly redact: Redact,
    private readonly options: { subscribeTimeoutMs: number },
  ) {}

  async start(request: ChatRequest, context: Omit<CompletionContext, 'signal'>): Promise<StartedCompletion> {
    const id = newCompletionId();
    const abort = new AbortController();
    const { dispatch, stream } = await this.completions.stream({ ...request, stream: true }, { ...context, signal: abort.signal });
    this.running.set(id, { owner: context.principal.keyId, abort, subscribers: 0 });
    let pumping = false;
    const timer = setTimeout(
      () => abort.abort(new GatewayError(ErrorCode.invalidRequest, 'Nobody subscribed to the completion stream.', { status: 499 })),
      this.options.subscribeTimeoutMs,
    );
    timer.unref();
    const subscribed = this.events.subscribe(subscribedTopic(id), () => {
      subscribed.unsubscribe();
      clearTimeout(timer);
      pumping = true;
      void this.pump(id, dispatch, stream, abort);
    });
    abort.signal.addEventListener('abort', () => {
      subscribed.unsubscribe();
      clearTimeout(timer);
      // A stream never read still has to run its metering (ledger record, budget settlement).
      if (!pumping) void drain(stream);
      this.running.delete(id);
    });
    return { id, dispatch };
  }

  /**
   * The events of completion `id`, ending after COMPLETION or ERROR. A completion this replica runs is
   * visible only to the key that started it (and the admin); with a memory bus an id this replica does
   * not know is refused, since no other replica can be publishing it.
   */
  subscribe(id: string, principal: Principal): AsyncIterableIterator<CompletionStreamEvent> {
    const running = this.running.get(id);
    const foreign = running && principal.kind === 'key' && running.owner !== principal.keyId;
    if (foreign || (!running && this.events.kind === 'memory'))
      throw new GatewayError(
        ErrorCode.notFound,
        `There is no streamed completion '${id}' running (ids come from createCompletion with stream: true and last until the stream ends).`,
        { status: 404, param: 'completionId' },
      );
    const iterator = busIterator<CompletionStreamEvent>(this.events, topics.completion(id), {
      until: (event) => event.eventType === CompletionEventType.completion || event.eventType === CompletionEventType.error,
      onSubscribed: () => void this.events.publish(subscribedTopic(id), {}),
    });
    if (running) running.subscribers++;
    const close = iterator.return?.bind(iterator);
    // The last local subscriber leaving before the end cancels the upstream request.
    iterator.return = async () => {
      if (running && --running.subscribers === 0 && this.running.has(id))
        running.abort.abort(new GatewayError(ErrorCode.invalidRequest, 'The subscriber left.', { status: 499 }));
      return close ? close() : { value: undefined, done: true };
    };
    return iterator;
  }

  private async pump(id: string, dispatch: StreamDispatch, stream: AsyncIterable<StreamPart>, abort: AbortController) {
    let sequence = 0;
    const publish = (event: Omit<CompletionStreamEvent, 'completionId' | 'sequence' | 'agentStatus'>) =>
      this.events.publish<CompletionStreamEvent>(topics.completion(id), {
        completionId: id,
        sequence: sequence++,
        agentStatus: null,
        ...event,
      });
    const none = { content: null, metadata: null, usage: null };
    let text = '';
    let finishReason: string | null = null;
    let usage: CompletionStreamEvent['usage'] = null;
    try {
      await publish({ ...none, eventType: CompletionEventType.thinking, metadata: { status: 'waiting for the model' } });
      for await (const event of completionEvents(stream, () => dispatch.deployment?.provider ?? 'upstream')) {
        switch (event.type) {
          case 'content':
            text += event.text;
            await publish({ ...none, eventType: CompletionEventType.content, content: event.text });
            break;
          case 'tool_call':
            await publish({
              ...none,
              eventType: CompletionEventType.toolCall,
              metadata: { id: event.id, name: event.name, arguments: event.arguments },
            });
            break;
          case 'finish':
            finishReason = event.reason;
            break;
          case 'usage':
            usage = {
              promptTokens: event.usage.promptTokens,
              completionTokens: event.usage.completionTokens,
              totalTokens: event.usage.promptTokens + event.usage.completionTokens,
              cost: event.costUsd ?? null,
            };
            break;
        }
      }
      await publish({
        ...none,
        eventType: CompletionEventType.completion,
        content: text,
        usage,
        metadata: { finishReason, model: dispatch.deployment?.model.id ?? null, provider: dispatch.deployment?.provider ?? null },
      });
    } catch (error) {
      if (!abort.signal.aborted) {
        const code = error instanceof GatewayError ? error.code : ErrorCode.internal;
        const message =
          error instanceof GatewayError
            ? this.redact(error.message)
            : 'The completion failed unexpectedly; the server log has the details.';
        if (!(error instanceof GatewayError)) this.logger.error('streamed completion failed', { completionId: id, error: String(error) });
        await publish({ ...none, eventType: CompletionEventType.error, metadata: { code, message } });
      }
    } finally {
      this.running.delete(id);
    }
  }
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  try {
    for await (const _part of stream) {
      // discard: the request was cancelled; reading lets the metering finish
    }
  } catch {
    // the abort itself
  }
}
