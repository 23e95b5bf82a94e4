import { createClient } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startEmulator } from '../emulators/index.js';
import type { Emulator } from '../emulators/index.js';
import { emulatorKey } from '../contract/provider-matrix.js';
import { startGateway } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';

/**
 * Keys on every GraphQL and WebSocket door of a gateway that has keys: HTTP (401 with
 * `invalid_api_key`), graphql-ws (close 4401 unless `connection_init` or the handshake carries a key),
 * GraphQL over SSE, and `/stream` (handshake header or a first `auth` message); a gateway key's model
 * scope and the admin-only `setBudget` as on REST.
 */
const adminKey = 'cb-admin-test-key-0123456789abcdef';
let gateway: GatewayProcess;
let openai: Emulator;
let userKey: string;

beforeAll(async () => {
  openai = await startEmulator({ kind: 'openai', apiKey: emulatorKey });
  gateway = await startGateway({ env: { OPENAI_API_KEY: emulatorKey, OPENAI_BASE_URL: openai.url, CB_ADMIN_KEY: adminKey } });
  const created = await fetch(`${gateway.url}/api/v1/keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
    body: JSON.stringify({ name: 'graphql-user', scopes: { models: ['gpt-4o-mini'] } }),
  });
  userKey = ((await created.json()) as { key: string }).key;
}, 60_000);
afterAll(async () => {
  await gateway?.stop();
  await openai?.close();
});

const wsUrl = () => `${gateway.url.replace('http', 'ws')}`;
const modelsQuery = '{ models(first: 1) { totalCount } }';

async function post(query: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return {
    status: response.status,
    body: (await response.json()) as { data?: unknown; errors?: { message: string; extensions: { code: string } }[] },
  };
}

/** How a graphql-ws connection ends: `{closed: code, reason}` or the first result. */
function wsOutcome(connectionParams?: Record<string, unknown>, headers?: Record<string, string>) {
  class HeaderSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers: headers ?? {} });
    }
  }
  const client = createClient({
    url: `${wsUrl()}/graphql`,
    webSocketImpl: HeaderSocket,
    retryAttempts: 0,
    ...(connectionParams ? { connectionParams } : {}),
  });
  return new Promise<{ closed?: number; reason?: string; data?: unknown }>((resolve) => {
    client.subscribe(
      { query: modelsQuery },
      {
        next: (value) => resolve({ data: value.data }),
        error: (error) => {
          const event = error as { code?: number; reason?: string };
          resolve({ closed: event.code ?? -1, reason: event.reason ?? String(error) });
        },
        complete: () => undefined,
      },
    );
  }).finally(() => client.dispose());
}

describe('GraphQL over HTTP', () => {
  it('refuses a request without a key or with a wrong one, 401 invalid_api_key', async () => {
    const refused: Record<string, string>[] = [{}, { authorization: 'Bearer cb_not_a_real_key_0000000000000000' }];
    for (const headers of refused) {
      const { status, body } = await post(modelsQuery, headers);
      expect(status).toBe(401);
      expect(body.errors?.[0]).toMatchObject({ extensions: { code: 'invalid_api_key' } });
    }
    expect((await post(modelsQuery, { authorization: `Bearer ${userKey}` })).body.data).toEqual({
      models: { totalCount: expect.any(Number) },
    });
    expect((await post(modelsQuery, { 'x-api-key': userKey })).status).toBe(200);
  });

  it("applies the key's model scope to createCompletion and keeps setBudget for the admin key", async () => {
    const outOfScope = await post(
      'mutation { createCompletion(input: { model: "gpt-4o", messages: [{ role: USER, content: "hi" }] }) { id } }',
      {
        authorization: `Bearer ${userKey}`,
      },
    );
    expect(outOfScope.body.errors?.[0]).toMatchObject({ extensions: { code: 'permission_denied' } });
    const budget = 'mutation { setBudget(input: { name: "nope", limitUsd: 1 }) { id } }';
    expect((await post(budget, { authorization: `Bearer ${userKey}` })).body.errors?.[0]).toMatchObject({
      message: expect.stringContaining('admin key'),
      extensions: { code: 'permission_denied' },
    });
    expect((await post(budget, { authorization: `Bearer ${adminKey}` })).body.errors).toBeUndefined();
    expect(openai.requests.filter((request) => request.method === 'POST')).toHaveLength(0);
  });
});

describe('GraphQL subscriptions', () => {
  it('graphql-ws: closes 4401 without a key, accepts the key in connection_init or in the handshake', async () => {
    expect(await wsOutcome()).toMatchObject({ closed: 4401, reason: expect.stringContaining('invalid_api_key') });
    expect(await wsOutcome({ authorization: 'Bearer cb_wrong_000000000000000000000000' })).toMatchObject({ closed: 4401 });
    expect(await wsOutcome({ authorization: `Bearer ${userKey}` })).toEqual({ data: { models: { totalCount: expect.any(Number) } } });
    expect(await wsOutcome({ apiKey: adminKey })).toMatchObject({ data: expect.anything() });
    expect(await wsOutcome(undefined, { authorization: `Bearer ${userKey}` })).toMatchObject({ data: expect.anything() });
  });

  it('GraphQL over SSE: refuses a subscription without a key', async () => {
    const refused = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription { costUpdates { type } }' }),
    });
    expect(refused.status).toBe(401);
    const client = createSseClient({ url: `${gateway.url}/graphql`, headers: { authorization: `Bearer ${userKey}` } });
    try {
      const results = [];
      for await (const result of client.iterate({ query: modelsQuery })) results.push(result);
      expect(results).toEqual([{ data: { models: { totalCount: expect.any(Number) } } }]);
    } finally {
      client.dispose();
    }
  });
});

describe('/stream', () => {
  async function open(headers: Record<string, string> = {}) {
    const socket = new WebSocket(`${wsUrl()}/stream`, { headers });
    const messages: { type: string; [field: string]: unknown }[] = [];
    socket.on('message', (data) => messages.push(JSON.parse(String(data)) as { type: string }));
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
    );
    await new Promise((resolve) => socket.once('open', resolve));
    return { socket, messages, closed };
  }

  it('refuses work before an auth message, then authenticates with one', async () => {
    const { socket, messages } = await open();
    socket.send(JSON.stringify({ type: 'completion', id: 'early', model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }));
    socket.send(JSON.stringify({ type: 'auth', key: userKey }));
    socket.send(JSON.stringify({ type: 'ping', id: 'after' }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(messages).toEqual([
      { type: 'error', id: 'early', error: { code: 'invalid_api_key', message: expect.stringContaining('auth') } },
      { type: 'authenticated', principal: 'graphql-user' },
      { type: 'pong', id: 'after' },
    ]);
    socket.close();
  });

  it('closes 4401 on a wrong key, in the handshake or in an auth message', async () => {
    const header = await open({ authorization: 'Bearer cb_wrong_000000000000000000000000' });
    expect(await header.closed).toEqual({ code: 4401, reason: 'invalid_api_key' });
    const message = await open();
    message.socket.send(JSON.stringify({ type: 'auth', key: 'cb_wrong_000000000000000000000000' }));
    expect(await message.closed).toEqual({ code: 4401, reason: 'invalid_api_key' });
    expect(message.messages[0]).toMatchObject({ type: 'error', error: { code: 'invalid_api_key' } });
  });

  it("accepts the key in the handshake and applies the key's model scope", async () => {
    const { socket, messages } = await open({ 'x-api-key': userKey });
    socket.send(JSON.stringify({ type: 'completion', id: 'scoped', model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(messages.find((message) => message.type === 'error')).toMatchObject({ id: 'scoped', error: { code: 'permission_denied' } });
    socket.close();
  });
});
