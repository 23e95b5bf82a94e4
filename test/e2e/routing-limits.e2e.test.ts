import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../emulators/index.js';
import type { Emulator } from '../emulators/index.js';
import { startGateway } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';

/**
 * Limits through the real server: a provider's configured `rate_limits` stop traffic before the provider
 * has to say 429; a 429 on one key of a pool cools that key alone, for as long as its `Retry-After`
 * (seconds or HTTP date) says, while the next requests use the other key; explain estimates the cost.
 * Each test uses providers of its own, so no state leaks between them.
 */
let limited: Emulator;
let spare: Emulator;
let pooled: Emulator;
let gateway: GatewayProcess;

beforeAll(async () => {
  limited = await startEmulator({ kind: 'openai' });
  spare = await startEmulator({ kind: 'openai' });
  pooled = await startEmulator({ kind: 'openai' });
  gateway = await startGateway({
    env: { KEY_A: 'sk-pool-key-a', KEY_B: 'sk-pool-key-b' },
    configYaml: `
providers:
  limited: { kind: openai_compatible, base_url: "${limited.url}", discover: false, rate_limits: { rpm: 1 } }
  spare: { kind: openai_compatible, base_url: "${spare.url}", discover: false, models: { priced-model: { input_price: 2, output_price: 8, context_length: 100000 } } }
  pool-seconds: { kind: openai_compatible, base_url: "${pooled.url}", api_keys: [env:KEY_A, env:KEY_B], discover: false }
  pool-date: { kind: openai_compatible, base_url: "${pooled.url}", api_keys: [env:KEY_A, env:KEY_B], discover: false }
`,
  });
}, 60_000);
afterAll(async () => {
  await gateway?.stop();
  for (const emulator of [limited, spare, pooled]) await emulator?.close();
});
beforeEach(() => {
  for (const emulator of [limited, spare, pooled]) emulator.reset();
  limited.setDefault({ text: 'served by limited' });
  spare.setDefault({ text: 'served by spare' });
  pooled.setDefault({ text: 'served by the pool' });
});

async function post(body: object): Promise<Response> {
  return fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function explain(body: object) {
  const response = await fetch(`${gateway.url}/api/v1/route/explain`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await response.json()) as {
    estimate: { promptTokens: number; maxOutputTokens: number };
    candidates: { provider: string; estimated_cost_usd: number | null }[];
    rejected: { provider: string; reason: string; availableAt: string | null }[];
  };
}

async function keys(provider: string): Promise<{ coolingUntil: string | null; rateLimited: number; requests: number }[]> {
  const state = (await (await fetch(`${gateway.url}/api/v1/providers/health`)).json()) as {
    providers: { name: string; keys: { coolingUntil: string | null; rateLimited: number; requests: number }[] }[];
  };
  return state.providers.find((entry) => entry.name === provider)?.keys ?? [];
}

const authorizations = (emulator: Emulator) => emulator.requests.map((request) => request.headers['authorization']);

describe('provider rate limits from config', () => {
  it('rpm: 1 sends the second request to the fallback before the provider ever answers 429', async () => {
    const request = { model: 'limited/rpm-model', models: ['spare/rpm-model'], messages: [{ role: 'user', content: 'hi' }] };
    const first = await post(request);
    expect(first.headers.get('x-cb-provider')).toBe('limited');
    await first.text();
    const second = await post(request);
    expect(second.status).toBe(200);
    expect(((await second.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe('served by spare');
    expect(second.headers.get('x-cb-provider')).toBe('spare');
    expect(second.headers.get('x-cb-attempts')).toBe('1');
    expect(second.headers.get('x-cb-attempt-errors')).toBeNull();
    expect(limited.requests).toHaveLength(1);
    const plan = await explain(request);
    expect(plan.rejected).toEqual([
      { provider: 'limited', model: 'rpm-model', reason: 'provider rpm/tpm limit from config reached', availableAt: expect.any(String) },
    ]);
    const availableIn = Date.parse(plan.rejected[0]!.availableAt!) - Date.now();
    expect(availableIn).toBeGreaterThan(55_000);
    expect(availableIn).toBeLessThanOrEqual(60_000);
  });
});

describe('key pools', () => {
  it('a 429 on key 1 cools key 1 alone for its Retry-After seconds; the retry and the next requests use key 2', async () => {
    pooled.enqueue({ fault: { type: 'status', status: 429, retryAfter: '30' } });
    const sentAt = Date.now();
    const first = await post({ model: 'pool-seconds/k-model', messages: [{ role: 'user', content: 'hi' }] });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-cb-provider')).toBe('pool-seconds');
    expect(first.headers.get('x-cb-attempts')).toBe('2');
    expect(first.headers.get('x-cb-attempt-errors')).toBe('pool-seconds/k-model: upstream_rate_limited 429');
    for (let index = 0; index < 2; index++) {
      const next = await post({ model: 'pool-seconds/k-model', messages: [{ role: 'user', content: 'again' }] });
      expect(next.headers.get('x-cb-attempts')).toBe('1');
      await next.text();
    }
    expect(authorizations(pooled)).toEqual([
      'Bearer sk-pool-key-a',
      'Bearer sk-pool-key-b',
      'Bearer sk-pool-key-b',
      'Bearer sk-pool-key-b',
    ]);
    const [keyA, keyB] = await keys('pool-seconds');
    expect(keyA).toMatchObject({ rateLimited: 1, requests: 1 });
    expect(keyB).toMatchObject({ rateLimited: 0, requests: 3, coolingUntil: null });
    const cooling = Date.parse(keyA!.coolingUntil!);
    expect(cooling).toBeGreaterThanOrEqual(sentAt + 30_000);
    expect(cooling).toBeLessThanOrEqual(Date.now() + 30_000);
  });

  it('the cooldown follows an HTTP-date Retry-After', async () => {
    const retryAt = Math.ceil((Date.now() + 45_000) / 1000) * 1000;
    pooled.enqueue({ fault: { type: 'status', status: 429, retryAfter: new Date(retryAt).toUTCString() } });
    const first = await post({ model: 'pool-date/d-model', messages: [{ role: 'user', content: 'hi' }] });
    expect(first.status).toBe(200);
    expect(authorizations(pooled)).toEqual(['Bearer sk-pool-key-a', 'Bearer sk-pool-key-b']);
    const [keyA, keyB] = await keys('pool-date');
    // The date becomes a delay and the delay a deadline on the gateway's clock: a tick between the two may add 1 ms.
    expect(Math.abs(Date.parse(keyA!.coolingUntil!) - retryAt)).toBeLessThanOrEqual(5);
    expect(keyB?.coolingUntil).toBeNull();
  });
});

describe('explain', () => {
  it('estimates the cost from the configured prices: prompt tokens × input + max_tokens × output', async () => {
    const plan = await explain({
      model: 'spare/priced-model',
      messages: [{ role: 'user', content: 'How much is this?' }],
      max_tokens: 100,
    });
    expect(plan.estimate.maxOutputTokens).toBe(100);
    expect(plan.estimate.promptTokens).toBeGreaterThan(0);
    expect(plan.candidates[0]?.estimated_cost_usd).toBeCloseTo((plan.estimate.promptTokens * 2 + 100 * 8) / 1_000_000, 12);
    const unpriced = await explain({ model: 'spare/unpriced-model', messages: [{ role: 'user', content: 'x' }] });
    expect(unpriced.candidates[0]?.estimated_cost_usd).toBeNull();
  });
});
