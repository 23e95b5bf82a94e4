import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../emulators/index.js';
import type { Emulator } from '../emulators/index.js';
import { startGateway } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';
import { eventually } from './support/model-scripts.js';

/**
 * The Messages API behind the gateway's keys, through the real server with an admin key configured:
 * the Anthropic SDK's `x-api-key` (and `Authorization: Bearer`) authenticate as on every route; a key's
 * model scope and budget apply, answered as Anthropic's 401/403/402 errors; the ledger records the
 * requests under `messages` with their cost.
 */
const adminKey = 'cb-admin-messages-e2e-5d1e';
let anthropic: Emulator;
let openai: Emulator;
let gateway: GatewayProcess;

beforeAll(async () => {
  anthropic = await startEmulator({ kind: 'anthropic', apiKey: 'sk-ant-upstream' });
  openai = await startEmulator({ kind: 'openai', apiKey: 'sk-openai-upstream' });
  gateway = await startGateway({
    env: {
      CB_ADMIN_KEY: adminKey,
      ANTHROPIC_API_KEY: 'sk-ant-upstream',
      ANTHROPIC_BASE_URL: anthropic.url,
      OPENAI_API_KEY: 'sk-openai-upstream',
      OPENAI_BASE_URL: openai.url,
    },
  });
}, 60_000);
afterAll(async () => {
  await gateway?.stop();
  await anthropic?.close();
  await openai?.close();
});

const hello = [{ role: 'user' as const, content: 'hello' }];
const sdk = (options: { apiKey?: string; authToken?: string }) =>
  new Anthropic({ baseURL: gateway.url, maxRetries: 0, apiKey: null, ...options });
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => new Error('the call succeeded'),
    (error: unknown) => error,
  );

async function newKey(name: string, scopes: Record<string, unknown>): Promise<{ key: string; id: string }> {
  const response = await fetch(`${gateway.url}/api/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, scopes }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as { key: string; id: string };
}

describe('the Messages API behind gateway keys', () => {
  it('refuses a missing or wrong key with authentication_error, before any provider', async () => {
    // the SDK will not send without a key: a bare request stands for a client that has none
    const missing = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-3-5-sonnet-latest', max_tokens: 5, messages: hello }),
    });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error' },
      request_id: missing.headers.get('request-id'),
    });
    const wrong = await failure(
      sdk({ apiKey: 'cb_wrong' }).messages.create({ model: 'claude-3-5-sonnet-latest', max_tokens: 5, messages: hello }),
    );
    expect(wrong).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(wrong).toMatchObject({ status: 401, type: 'authentication_error' });
    const counted = await failure(sdk({ apiKey: 'cb_wrong' }).messages.countTokens({ model: 'gpt-4o', messages: hello }));
    expect(counted).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(anthropic.requests.length + openai.requests.length).toBe(0);
  });

  it('accepts a key as x-api-key and as Authorization: Bearer, and the upstream gets its own key, never the client one', async () => {
    const { key } = await newKey('sdk user', {});
    for (const client of [sdk({ apiKey: key }), sdk({ authToken: key })]) {
      const message = await client.messages.create({ model: 'claude-3-5-sonnet-latest', max_tokens: 5, messages: hello });
      expect(message.content[0]).toMatchObject({ type: 'text' });
    }
    expect(anthropic.requests.map((request) => request.headers['x-api-key'])).toEqual(['sk-ant-upstream', 'sk-ant-upstream']);
  });

  it("applies a key's model scope with permission_error, on messages and count_tokens", async () => {
    const { key } = await newKey('claude only', { models: ['claude-3-5-sonnet-latest'] });
    const client = sdk({ apiKey: key });
    expect((await client.messages.countTokens({ model: 'claude-3-5-sonnet-latest', messages: hello })).input_tokens).toBeGreaterThan(0);
    const before = openai.requests.length;
    for (const call of [
      client.messages.create({ model: 'gpt-4o', max_tokens: 5, messages: hello }),
      client.messages.countTokens({ model: 'gpt-4o', messages: hello }),
    ]) {
      const error = await failure(call);
      expect(error).toBeInstanceOf(Anthropic.PermissionDeniedError);
      expect(error).toMatchObject({ status: 403, type: 'permission_error' });
      expect((error as Error).message).toContain('claude-3-5-sonnet-latest');
    }
    expect(openai.requests.length).toBe(before);
  });

  it('answers a spent budget with 402 billing_error (PaymentRequiredError), keeping the message', async () => {
    const { key } = await newKey('no money', { budget: { limit_usd: 0, period: 'daily' } });
    const error = await failure(
      sdk({ apiKey: key }).messages.create({ model: 'claude-3-5-sonnet-latest', max_tokens: 50, messages: hello }),
    );
    expect(error).toBeInstanceOf(Anthropic.PaymentRequiredError);
    expect(error).toMatchObject({ status: 402, type: 'billing_error' });
    expect((error as Error).message).toMatch(/budget/i);
  });

  it('records the requests in the ledger under messages, with their cost', async () => {
    const { key, id } = await newKey('metered', {});
    anthropic.enqueue({ text: 'priced', usage: { promptTokens: 1000, completionTokens: 1000 } });
    await sdk({ apiKey: key }).messages.create({ model: 'claude-3-5-sonnet-latest', max_tokens: 2000, messages: hello });
    anthropic.enqueue({ text: 'priced stream', usage: { promptTokens: 1000, completionTokens: 1000 } });
    await sdk({ apiKey: key }).messages.stream({ model: 'claude-3-5-sonnet-latest', max_tokens: 2000, messages: hello }).finalMessage();
    type Row = { keyId: string; endpoint: string; status: string; stream: boolean; costUsd: number | null };
    const rows = async () =>
      ((await (await fetch(`${gateway.url}/api/v1/usage?limit=1000`, { headers: { 'x-api-key': key } })).json()) as { data: Row[] }).data;
    await eventually(async () => (await rows()).length === 2);
    for (const row of await rows()) {
      expect(row).toMatchObject({ keyId: id, endpoint: 'messages', status: 'ok' });
      // claude-3-5-sonnet: $3 in and $15 out per million tokens
      expect(row.costUsd).toBeCloseTo((1000 * 3 + 1000 * 15) / 1e6, 9);
    }
    expect((await rows()).map((row) => row.stream).sort()).toEqual([false, true]);
  });
});
