import { describe, expect, it } from 'vitest';
import { ErrorCode, GatewayError } from '../core/errors.js';
import { silentLogger } from '../core/logger.js';
import { adminPrincipal, anonymousPrincipal } from '../core/principal.js';
import type { Principal } from '../core/principal.js';
import type { StreamPart } from '../core/stream-part.js';
import { MemoryEventBus } from '../streaming/memory-event-bus.js';
import type { EventBus } from '../streaming/event-bus.js';
import type { CompletionService } from './completion-service.js';
import { CompletionStreams } from './completion-streams.js';
import type { CompletionStreamEvent } from './completion-streams.js';

const keyPrincipal = (keyId: string): Principal => ({ ...anonymousPrincipal, kind: 'key', keyId, name: keyId });

/** A completion service whose streams yield `parts` (then fail with `failure`), recording how each was read and ended. */
function fakeCompletions(parts: StreamPart[], failure?: Error) {
  const state = { read: 0, finished: 0, signal: undefined as AbortSignal | undefined };
  async function* stream(signal: AbortSignal): AsyncGenerator<StreamPart> {
    try {
      for (const part of parts) {
        if (signal.aborted) throw signal.reason;
        state.read++;
        yield part;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      if (failure) throw failure;
    } finally {
      state.finished++;
    }
  }
  const service = {
    stream: async (_request: unknown, context: { signal: AbortSignal }) => {
      state.signal = context.signal;
      return {
        dispatch: { deployment: undefined, attempts: 1, attemptLog: [], warnings: [], upstreamMs: 0 },
        stream: stream(context.signal),
        metering: {},
      };
    },
  } as unknown as CompletionService;
  return { service, state };
}

const text = (value: string): StreamPart => ({ type: 'text-delta', choice: 0, text: value });
const request = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'hi' }] };
const context = (principal: Principal) => ({ requestId: 'req_1', principal, endpoint: 'graphql' });

function streams(service: CompletionService, bus: EventBus = new MemoryEventBus(), subscribeTimeoutMs = 1_000) {
  return new CompletionStreams(service, bus, silentLogger, (value) => value, { subscribeTimeoutMs });
}

async function all(iterator: AsyncIterable<CompletionStreamEvent>): Promise<CompletionStreamEvent[]> {
  const events: CompletionStreamEvent[] = [];
  for await (const event of iterator) events.push(event);
  return events;
}

describe('CompletionStreams', () => {
  it('reads the upstream only once someone subscribes, then publishes THINKING, CONTENT… and COMPLETION with the whole text', async () => {
    const { service, state } = fakeCompletions([
      text('Hel'),
      text('lo'),
      { type: 'finish', choice: 0, reason: 'stop' },
      { type: 'usage', usage: { promptTokens: 3, completionTokens: 2 }, costUsd: 0.001 },
    ]);
    const hub = streams(service);
    const { id } = await hub.start(request, context(anonymousPrincipal));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(state.read).toBe(0);
    const events = await all(hub.subscribe(id, anonymousPrincipal));
    expect(events.map((event) => [event.sequence, event.eventType, event.content])).toEqual([
      [0, 'THINKING', null],
      [1, 'CONTENT', 'Hel'],
      [2, 'CONTENT', 'lo'],
      [3, 'COMPLETION', 'Hello'],
    ]);
    expect(events.at(-1)).toMatchObject({
      completionId: id,
      usage: { promptTokens: 3, completionTokens: 2, totalTokens: 5, cost: 0.001 },
      metadata: { finishReason: 'stop' },
    });
  });

  it('publishes an ERROR with the code when the upstream fails mid-way', async () => {
    const { service } = fakeCompletions(
      [text('partial')],
      new GatewayError(ErrorCode.upstreamError, 'The provider failed.', { status: 502 }),
    );
    const hub = streams(service);
    const { id } = await hub.start(request, context(anonymousPrincipal));
    const events = await all(hub.subscribe(id, anonymousPrincipal));
    expect(events.at(-1)).toMatchObject({ eventType: 'ERROR', metadata: { code: 'upstream_error', message: 'The provider failed.' } });
  });

  it('cancels the upstream when nobody subscribes in time, and runs its metering', async () => {
    const { service, state } = fakeCompletions([text('never read')]);
    const hub = streams(service, new MemoryEventBus(), 20);
    const { id } = await hub.start(request, context(anonymousPrincipal));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(state.signal?.aborted).toBe(true);
    expect(state.finished).toBe(1);
    expect(() => hub.subscribe(id, anonymousPrincipal)).toThrow(/no streamed completion/);
  });

  it('cancels the upstream when the last subscriber leaves early', async () => {
    const { service, state } = fakeCompletions(Array.from({ length: 50 }, (_, index) => text(`w${index} `)));
    const hub = streams(service);
    const { id } = await hub.start(request, context(anonymousPrincipal));
    const iterator = hub.subscribe(id, anonymousPrincipal);
    await iterator.next();
    await iterator.next();
    await iterator.return?.();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(state.signal?.aborted).toBe(true);
    expect(state.read).toBeLessThan(50);
  });

  it('shows a completion to the key that started it and the admin, not to another key; unknown ids are not_found', async () => {
    const { service } = fakeCompletions([text('x')]);
    const hub = streams(service);
    const { id } = await hub.start(request, context(keyPrincipal('key_a')));
    expect(() => hub.subscribe(id, keyPrincipal('key_b'))).toThrow(expect.objectContaining({ code: 'not_found' }));
    expect(() => hub.subscribe('chatcmpl-unknown', adminPrincipal)).toThrow(expect.objectContaining({ code: 'not_found' }));
    expect((await all(hub.subscribe(id, adminPrincipal))).at(-1)?.eventType).toBe('COMPLETION');
  });

  it('lets a subscriber on another replica start the stream (a shared bus): the id is not refused there', async () => {
    const { service } = fakeCompletions([text('from afar')]);
    const shared = new MemoryEventBus();
    const remoteBus = Object.assign(Object.create(shared) as EventBus, { kind: 'nats' });
    const publisher = streams(service, shared);
    const subscriber = streams(fakeCompletions([]).service, remoteBus);
    const { id } = await publisher.start(request, context(anonymousPrincipal));
    const events = await all(subscriber.subscribe(id, anonymousPrincipal));
    expect(events.at(-1)).toMatchObject({ eventType: 'COMPLETION', content: 'from afar' });
  });
});
