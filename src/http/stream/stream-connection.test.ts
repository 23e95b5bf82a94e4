import { describe, expect, it } from 'vitest';
import type { AppContainer } from '../../app/container.js';
import { ErrorCode, GatewayError } from '../../core/errors.js';
import { anonymousPrincipal } from '../../core/principal.js';
import { silentLogger } from '../../core/logger.js';
import type { StreamPart } from '../../core/stream-part.js';
import { MemoryEventBus } from '../../streaming/memory-event-bus.js';
import { StreamConnection } from './stream-connection.js';
import type { StreamSocket } from './stream-connection.js';

/** A socket whose send queue only empties when the test says so. */
function fakeSocket() {
  const sent: Record<string, unknown>[] = [];
  const socket = {
    readyState: 1,
    bufferedAmount: 0,
    closed: undefined as { code?: number; reason?: string } | undefined,
    send(data: string) {
      sent.push(JSON.parse(data) as Record<string, unknown>);
      socket.bufferedAmount += data.length;
    },
    close(code?: number, reason?: string) {
      socket.closed = { code, reason };
    },
  };
  return { socket: socket as StreamSocket & typeof socket, sent };
}

/** A container whose completions stream `pieces` words forever (counting what was read) until aborted. */
function fakeContainer() {
  const state = { pulled: 0, signal: undefined as AbortSignal | undefined };
  async function* endless(signal: AbortSignal): AsyncGenerator<StreamPart> {
    for (;;) {
      if (signal.aborted) throw signal.reason;
      state.pulled++;
      yield { type: 'text-delta', choice: 0, text: 'word '.repeat(10) };
    }
  }
  const container = {
    logger: silentLogger,
    redact: (text: string) => text,
    events: new MemoryEventBus(),
    authenticator: { authenticate: async () => ({ principal: anonymousPrincipal, key: undefined }) },
    completions: {
      stream: async (_request: unknown, context: { signal: AbortSignal }) => {
        state.signal = context.signal;
        return {
          dispatch: { deployment: undefined, attempts: 1, attemptLog: [], warnings: [], upstreamMs: 0 },
          stream: endless(context.signal),
        };
      },
    },
  } as unknown as AppContainer;
  return { container, state };
}

const limits = { highWaterBytes: 1_000, stallTimeoutMs: 150, maxConcurrent: 2, maxSubscriptions: 2, authTimeoutMs: 1_000 };
const completion = JSON.stringify({ type: 'completion', id: 'c1', model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });

describe('StreamConnection back-pressure', () => {
  it('stops reading the upstream while the socket queue is over the mark, then cancels with slow_consumer', async () => {
    const { socket, sent } = fakeSocket();
    const { container, state } = fakeContainer();
    const connection = new StreamConnection(socket, container, 'conn', limits);
    await connection.start(Promise.resolve({ auth: { principal: anonymousPrincipal, key: undefined } }));
    await connection.receive(completion);
    await Promise.all([...connection.running]);
    // Only what fits under the mark (plus the one message that crossed it) was read from the upstream.
    expect(state.pulled).toBeLessThanOrEqual(Math.ceil(limits.highWaterBytes / 60) + 2);
    expect(state.signal?.aborted).toBe(true);
    expect(sent.at(-1)).toMatchObject({
      type: 'error',
      id: 'c1',
      error: { code: 'slow_consumer', message: expect.stringContaining('too slowly') },
    });
    expect(socket.bufferedAmount).toBeLessThan(limits.highWaterBytes + 500);
  });

  it('resumes reading once the client catches up', async () => {
    const { socket, sent } = fakeSocket();
    const { container, state } = fakeContainer();
    const connection = new StreamConnection(socket, container, 'conn', { ...limits, stallTimeoutMs: 5_000 });
    await connection.start(Promise.resolve({ auth: { principal: anonymousPrincipal, key: undefined } }));
    await connection.receive(completion);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const pausedAt = state.pulled;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(state.pulled).toBe(pausedAt);
    socket.bufferedAmount = 0;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(state.pulled).toBeGreaterThan(pausedAt);
    await connection.receive(JSON.stringify({ type: 'cancel', id: 'c1' }));
    await Promise.all([...connection.running]);
    expect(sent.at(-1)).toEqual({ type: 'cancelled', id: 'c1' });
  });
});

describe('StreamConnection authentication', () => {
  it('waits for an auth message, refuses work before it, and closes 4401 on a bad key', async () => {
    const { socket, sent } = fakeSocket();
    const { container } = fakeContainer();
    (container.authenticator as unknown as { authenticate: () => Promise<never> }).authenticate = async () => {
      throw new GatewayError(ErrorCode.authentication, 'The API key is not valid for this gateway.', { status: 401 });
    };
    const connection = new StreamConnection(socket, container, 'conn', limits);
    await connection.start(Promise.resolve('pending'));
    await connection.receive(completion);
    expect(sent.at(-1)).toMatchObject({
      type: 'error',
      id: 'c1',
      error: { code: 'invalid_api_key', message: expect.stringContaining('auth') },
    });
    await connection.receive(JSON.stringify({ type: 'auth', key: 'cb_wrong' }));
    expect(sent.at(-1)).toMatchObject({ type: 'error', error: { code: 'invalid_api_key' } });
    expect(socket.closed).toEqual({ code: 4401, reason: 'invalid_api_key' });
  });

  it('closes a socket that never authenticates', async () => {
    const { socket } = fakeSocket();
    const { container } = fakeContainer();
    const connection = new StreamConnection(socket, container, 'conn', { ...limits, authTimeoutMs: 30 });
    await connection.start(Promise.resolve('pending'));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(socket.closed?.code).toBe(4401);
  });
});
