import { EventSource } from 'eventsource';
import type { EventSourceFetchInit } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';

/**
 * An instance's SSE stream with a real reconnecting client (`eventsource`, which sends `Last-Event-ID`
 * by itself) against a RUNNING instance: the connection drops mid-run, a manual transition fires while
 * the client is away, and after it reconnects the ids are gap-free with no repeats and the missed events
 * arrive; then the stream's keys: 401 without one when keys are configured, a stream with one.
 */
const adminKey = 'cb-admin-test-key-workflow-sse-012345';
let gateway: GatewayProcess;

beforeAll(async () => {
  gateway = await startGateway({ env: { CB_ADMIN_KEY: adminKey } });
  const published = await call('/api/v1/workflows', {
    id: 'sse-review',
    name: 'sse-review',
    places: [{ id: 'queued' }, { id: 'review' }, { id: 'done' }],
    transitions: [
      { id: 'submit', inputs: ['queued'], outputs: ['review'], trigger: 'manual' },
      { id: 'approve', inputs: ['review'], outputs: ['done'], trigger: 'manual' },
    ],
    start: 'queued',
    end: 'done',
  });
  expect(published.status).toBe(201);
}, 60_000);
afterAll(async () => {
  await gateway?.stop();
});

async function call(path: string, body?: unknown) {
  const response = await fetch(`${gateway.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function startInstance(): Promise<string> {
  const started = await call('/api/v1/workflows/sse-review/instances', { initialData: { doc: 'a.pdf' } });
  expect(started.status).toBe(201);
  return started.json['id'] as string;
}

/** A fetch for EventSource that adds the key, records each request's Last-Event-ID, and can drop the open connection. */
function droppableFetch(key: string | undefined) {
  const lastEventIds: (string | null)[] = [];
  let dropCurrent: (() => void) | undefined;
  const fetchLike = async (url: string | URL, init: EventSourceFetchInit) => {
    const headers = new Headers(init.headers);
    if (key) headers.set('authorization', `Bearer ${key}`);
    lastEventIds.push(headers.get('last-event-id'));
    const response = await fetch(url, { ...init, headers });
    if (!response.body) return response;
    const reader = response.body.getReader();
    let dropped = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        dropCurrent = () => {
          if (dropped) return;
          dropped = true;
          void reader.cancel(); // closes the real connection: the server sees the client go
          controller.close(); // and the client sees the stream end, so it reconnects
        };
      },
      async pull(controller) {
        if (dropped) return;
        const chunk = await reader.read().catch(() => ({ done: true, value: undefined }));
        if (dropped) return;
        if (chunk.done) {
          dropped = true;
          controller.close();
        } else controller.enqueue(chunk.value);
      },
    });
    return new Response(body, { status: response.status, headers: response.headers });
  };
  return { fetchLike, lastEventIds, drop: () => dropCurrent?.() };
}

/** Waits until `check` stops throwing (polling every 20 ms), or rethrows its last error after `timeoutMs`. */
async function eventually(check: () => void, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

interface Received {
  id: string;
  type: string;
}

function listen(source: EventSource, types: string[]): Received[] {
  const received: Received[] = [];
  for (const type of types) source.addEventListener(type, (event) => received.push({ id: event.lastEventId, type }));
  return received;
}

const eventTypes = ['INSTANCE_CREATED', 'TOKEN_CREATED', 'TOKEN_CONSUMED', 'WORKFLOW_TRANSITION', 'STATUS_CHANGED', 'COMPLETION'];

describe('an instance stream with a reconnecting EventSource', () => {
  it('resumes a running instance after a drop: no gap, no repeat, and the events fired while away arrive', async () => {
    const id = await startInstance();
    const { fetchLike, lastEventIds, drop } = droppableFetch(adminKey);
    const source = new EventSource(`${gateway.url}/api/v1/workflows/instances/${id}/events`, { fetch: fetchLike });
    try {
      const received = listen(source, eventTypes);
      await eventually(() => expect(received.some((event) => event.type === 'STATUS_CHANGED')).toBe(true), 10_000);
      const beforeDrop = received.length;
      const lastBefore = received.at(-1)?.id;

      drop();
      await eventually(() => expect(source.readyState).toBe(EventSource.CONNECTING), 5_000);
      const fired = await call(`/api/v1/workflows/instances/${id}/fire`, { transitionId: 'submit', data: {} });
      expect(fired.status).toBe(200);
      expect(received).toHaveLength(beforeDrop); // nothing arrives while away

      await eventually(() => expect(received.slice(beforeDrop).some((event) => event.type === 'WORKFLOW_TRANSITION')).toBe(true), 10_000);
      expect(lastEventIds).toEqual([null, lastBefore]);

      // The resumed connection is live again: the next transition arrives as it fires, then the completion.
      await call(`/api/v1/workflows/instances/${id}/fire`, { transitionId: 'approve', data: {} });
      await eventually(() => expect(received.some((event) => event.type === 'COMPLETION')).toBe(true), 10_000);
      expect(lastEventIds).toHaveLength(2);

      const ids = received.map((event) => Number(event.id));
      expect(ids).toEqual(ids.map((_, index) => index + 1));
      const history = (await call(`/api/v1/workflows/instances/${id}/history`)).json['data'] as { sequence: number; type: string }[];
      expect(received.map((event) => event.type)).toEqual(
        history.filter((event) => eventTypes.includes(event.type)).map((event) => event.type),
      );
      expect(received.filter((event) => event.type === 'WORKFLOW_TRANSITION')).toHaveLength(2);
    } finally {
      source.close();
    }
  }, 30_000);
});

describe('keys on the instance stream', () => {
  it('answers 401 without a key and streams with a valid one', async () => {
    const id = await startInstance();
    const url = `${gateway.url}/api/v1/workflows/instances/${id}/events`;
    const anonymous = await fetch(url, { headers: { accept: 'text/event-stream' } });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
    const wrong = await fetch(url, { headers: { authorization: 'Bearer cb-not-a-key' } });
    expect(wrong.status).toBe(401);
    await wrong.body?.cancel();

    const refused = new EventSource(url);
    const errors: (number | undefined)[] = [];
    refused.addEventListener('error', (event) => errors.push(event.code));
    await eventually(() => expect(refused.readyState).toBe(EventSource.CLOSED), 5_000);
    expect(errors).toContain(401);

    const created = await call('/api/v1/keys', { name: 'sse-user' });
    const userKey = created.json['key'] as string;
    const { fetchLike } = droppableFetch(userKey);
    const source = new EventSource(url, { fetch: fetchLike });
    try {
      const received = listen(source, eventTypes);
      await eventually(() => expect(received.map((event) => event.type)).toContain('INSTANCE_CREATED'), 10_000);
    } finally {
      source.close();
    }
  }, 30_000);
});
