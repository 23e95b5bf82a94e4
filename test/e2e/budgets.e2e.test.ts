import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../emulators/index.js';
import type { Emulator } from '../emulators/index.js';
import { backends } from './support/backends.js';
import { startGateway } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';

/**
 * Budgets and rate limits through the real server on each backend: 100 parallel requests against a
 * nearly spent budget overshoot it by at most one request's worst case; an exhausted budget answers 402
 * with its name and reset time; the seed's threshold actions (notification webhook, cheaper models,
 * pausing expensive ones); per-key rpm and concurrency limits with Retry-After and x-ratelimit-*.
 */
const adminKey = 'cb-admin-budget-e2e-55aa';
/** gpt-4o-mini: $0.15 in, $0.60 out per million tokens. */
const miniCost = (prompt: number, completion: number) => (prompt * 0.15 + completion * 0.6) / 1e6;

for (const backend of await backends()) {
  describe(`budgets and rate limits (${backend.name})`, () => {
    let upstream: Emulator;
    let gateway: GatewayProcess;
    const webhook: unknown[] = [];
    let webhookServer: ReturnType<typeof createServer>;

    const admin = async (path: string, body?: unknown, method = body === undefined ? 'GET' : 'POST') => {
      const response = await fetch(`${gateway.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, json: (await response.json().catch(() => undefined)) as Record<string, unknown> };
    };
    const newKey = async (name: string, scopes: object = {}): Promise<{ key: string; id: string }> =>
      (await admin('/api/v1/keys', { name, scopes })).json as unknown as { key: string; id: string };
    const chat = async (key: string, body: object, headers: Record<string, string> = {}) => {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], ...body }),
      });
      return { status: response.status, headers: response.headers, body: await response.text() };
    };

    beforeAll(async () => {
      upstream = await startEmulator({ kind: 'openai' });
      upstream.setDefault({ text: 'ok', usage: { promptTokens: 5, completionTokens: 1000 } });
      webhookServer = createServer((request, response) => {
        let text = '';
        request.on('data', (chunk: Buffer) => (text += chunk.toString()));
        request.on('end', () => {
          webhook.push(JSON.parse(text));
          response.end('ok');
        });
      });
      await new Promise<void>((resolve) => webhookServer.listen(0, '127.0.0.1', resolve));
      const hook = `http://127.0.0.1:${(webhookServer.address() as AddressInfo).port}/hook`;
      gateway = await startGateway({
        env: { ...backend.env(), CB_ADMIN_KEY: adminKey, UPSTREAM_KEY: 'sk-budget-upstream' },
        configYaml: `
notifications: { webhook_url: "${hook}" }
providers:
  openai: { base_url: "${upstream.url}", api_keys: [env:UPSTREAM_KEY], models: [gpt-4o, gpt-4o-mini] }
  discount: { kind: openai_compatible, base_url: "${upstream.url}", models: { gpt-4o: { input_price: 0.5, output_price: 2 } } }
`,
      });
    }, 60_000);
    afterAll(async () => {
      await gateway?.stop();
      await upstream?.close();
      await new Promise((resolve) => webhookServer?.close(resolve));
      await backend.cleanup();
    });

    it('holds 100 parallel requests against a nearly spent budget to at most one request of overshoot', async () => {
      const { key, id } = await newKey('racer');
      const limit = 0.01;
      expect(
        (await admin('/api/v1/budgets', { name: 'race', scope: { type: 'key', value: id }, period: 'daily', limit_usd: limit })).status,
      ).toBe(201);
      const request = (index: number) =>
        chat(key, { model: 'gpt-4o-mini', max_tokens: 1000, messages: [{ role: 'user', content: `race ${index}` }] });
      for (let index = 0; index < 14; index++) expect((await request(index)).status).toBe(200);
      const results = await Promise.all(Array.from({ length: 100 }, (_, index) => request(100 + index)));
      const served = results.filter((result) => result.status === 200).length;
      const refused = results.filter((result) => result.status === 402);
      expect(served + refused.length).toBe(100);
      expect(refused.length).toBeGreaterThan(90);
      const worstCase = miniCost('race 100'.length + 4, 1000);
      const budget = ((await admin('/api/v1/budgets')).json['data'] as { name: string; spent_usd: number; reserved_usd: number }[]).find(
        (entry) => entry.name === 'race',
      );
      expect(budget?.reserved_usd).toBeCloseTo(0, 9);
      expect(budget?.spent_usd).toBeCloseTo((14 + served) * miniCost(5, 1000), 9);
      expect(budget?.spent_usd ?? Infinity).toBeLessThanOrEqual(limit + worstCase);
      const refusal = refused[0] as (typeof refused)[number];
      expect(JSON.parse(refusal.body)).toMatchObject({ error: { code: 'budget_exhausted', type: 'insufficient_quota' } });
      expect(refusal.body).toContain("Budget 'race'");
      expect(refusal.body).toContain('resets at');
      expect(refusal.headers.get('x-cb-budget')).toBe('race');
      expect(Date.parse(refusal.headers.get('x-cb-budget-reset') ?? '')).toBeGreaterThan(Date.now());
    });

    it('sends a threshold notification to the webhook once per period', async () => {
      const { key, id } = await newKey('notified');
      await admin('/api/v1/budgets', {
        name: 'notify-me',
        scope: { type: 'key', value: id },
        period: 'monthly',
        limit_usd: 0.002,
        alerts: [{ threshold: 0.5, action: 'send_notification' }],
      });
      for (let index = 0; index < 3; index++) expect((await chat(key, { model: 'gpt-4o-mini', max_tokens: 1000 })).status).toBe(200);
      await waitFor(async () => webhook.some((event) => (event as { budget: string }).budget === 'notify-me'));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const events = webhook.filter((event) => (event as { budget: string }).budget === 'notify-me');
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        event: 'budget.threshold',
        threshold: 0.5,
        limit_usd: 0.002,
        period: 'monthly',
        text: expect.stringContaining('notify-me'),
      });
    });

    it('switches to cheaper models past a switch_to_cheaper_models threshold', async () => {
      const { key, id } = await newKey('saver');
      await admin('/api/v1/budgets', {
        name: 'saver',
        scope: { type: 'key', value: id },
        limit_usd: 1,
        alerts: [{ threshold: 0.000001, action: 'switch_to_cheaper_models' }],
      });
      const first = await chat(key, { model: 'gpt-4o', max_tokens: 100 });
      expect(first.headers.get('x-cb-provider')).toBe('openai');
      const second = await chat(key, { model: 'gpt-4o', max_tokens: 100 });
      expect(second.status).toBe(200);
      expect(second.headers.get('x-cb-provider')).toBe('discount');
      expect(second.headers.get('x-cb-warnings')).toContain('switching to cheaper models');
    });

    it('pauses expensive models past a pause_expensive_operations threshold, but not cheap ones', async () => {
      const { key, id } = await newKey('pauser');
      await admin('/api/v1/budgets', {
        name: 'pauser',
        scope: { type: 'key', value: id },
        limit_usd: 1,
        alerts: [{ threshold: 0.000001, action: 'pause_expensive_operations' }],
      });
      expect((await chat(key, { model: 'gpt-4o-mini', max_tokens: 100 })).status).toBe(200);
      const paused = await chat(key, { model: 'openai/gpt-4o', max_tokens: 100 });
      expect(paused.status).toBe(402);
      expect(paused.body).toContain('paused as expensive');
      expect((await chat(key, { model: 'gpt-4o-mini', max_tokens: 100 })).status).toBe(200);
    });

    it('limits a key to its requests per minute with Retry-After and x-ratelimit-* headers', async () => {
      const { key } = await newKey('slow lane', { rpm: 2 });
      const first = await chat(key, { model: 'gpt-4o-mini' });
      expect(first.status).toBe(200);
      expect(first.headers.get('x-ratelimit-limit-requests')).toBe('2');
      expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('1');
      expect((await chat(key, { model: 'gpt-4o-mini' })).status).toBe(200);
      const limited = await chat(key, { model: 'gpt-4o-mini' });
      expect(limited.status).toBe(429);
      expect(JSON.parse(limited.body)).toMatchObject({ error: { code: 'rate_limit_exceeded', type: 'rate_limit_error' } });
      expect(limited.body).toContain("key 'slow lane'");
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(limited.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    });

    it('limits a key to its concurrency, and frees the slot when a request ends', async () => {
      const { key } = await newKey('one at a time', { concurrency: 1 });
      upstream.enqueue({ text: 'slow', fault: { type: 'delay', ms: 500 } });
      const slow = chat(key, { model: 'gpt-4o-mini' });
      await new Promise((resolve) => setTimeout(resolve, 150));
      const second = await chat(key, { model: 'gpt-4o-mini' });
      expect(second.status).toBe(429);
      expect(second.body).toContain('in flight');
      expect((await slow).status).toBe(200);
      expect((await chat(key, { model: 'gpt-4o-mini' })).status).toBe(200);
    });
  });
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
