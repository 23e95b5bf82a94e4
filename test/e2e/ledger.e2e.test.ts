import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../emulators/index.js';
import type { Emulator } from '../emulators/index.js';
import { backends } from './support/backends.js';
import { startGateway } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';

/**
 * The usage ledger through the real server on each backend: a record for every request (streamed or
 * not, served or failed) with its cost also in `usage.cost`; the cost and metrics reports; Prometheus;
 * and a `kill -9` right after the last response, after which no record of a completed response is lost.
 */
const adminKey = 'cb-admin-ledger-e2e-71c2';

interface UsageRow {
  requestId: string;
  status: string;
  stream: boolean;
  provider: string | null;
  model: string | null;
  promptTokens: number;
  completionTokens: number;
  costUsd: number | null;
  httpStatus: number;
  errorCode: string | null;
  attempts: number;
  ttftMs: number | null;
  keyId: string | null;
}

for (const backend of await backends()) {
  describe(`usage ledger (${backend.name})`, () => {
    let openai: Emulator;
    let anthropic: Emulator;
    let gateway: GatewayProcess;
    let env: Record<string, string>;
    let dataDir: string;
    const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
    const get = async <T>(path: string, key = adminKey): Promise<T> =>
      (await (await fetch(`${gateway.url}${path}`, { headers: { authorization: `Bearer ${key}` } })).json()) as T;
    const records = async (): Promise<UsageRow[]> => (await get<{ data: UsageRow[] }>('/api/v1/usage?limit=1000')).data;

    beforeAll(async () => {
      openai = await startEmulator({ kind: 'openai' });
      anthropic = await startEmulator({ kind: 'anthropic' });
      dataDir = mkdtempSync(join(tmpdir(), 'cb-ledger-'));
      env = {
        ...backend.env(),
        CB_ADMIN_KEY: adminKey,
        OPENAI_API_KEY: 'sk-ledger-openai',
        OPENAI_BASE_URL: openai.url,
        ANTHROPIC_API_KEY: 'sk-ledger-anthropic',
        ANTHROPIC_BASE_URL: anthropic.url,
        LOG_LEVEL: 'debug',
      };
      gateway = await startGateway({ env, dataDir });
    }, 60_000);
    afterAll(async () => {
      await gateway?.stop();
      await openai?.close();
      await anthropic?.close();
      rmSync(dataDir, { recursive: true, force: true });
      await backend.cleanup();
    });

    it('records every request, streamed or not, served or failed, and reports its cost in usage.cost', async () => {
      const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: adminKey, maxRetries: 0 });
      openai.enqueue({ text: 'plain answer', usage: { promptTokens: 1000, completionTokens: 2000, cachedTokens: 400 } });
      const plain = await client.chat.completions.create(
        { model: 'gpt-4o', messages: [{ role: 'user', content: 'one' }] },
        { headers: { 'x-request-id': 'ledger-plain' } },
      );
      // gpt-4o: $2.50 in, $1.25 cached, $10 out per million.
      const expected = (600 * 2.5 + 400 * 1.25 + 2000 * 10) / 1e6;
      expect((plain.usage as unknown as { cost: number }).cost).toBeCloseTo(expected, 12);

      anthropic.enqueue({ text: 'streamed answer here', usage: { promptTokens: 100, completionTokens: 50 } });
      const stream = await client.chat.completions.create(
        {
          model: 'anthropic/claude-3-5-haiku-latest',
          messages: [{ role: 'user', content: 'two' }],
          stream: true,
          stream_options: { include_usage: true },
        },
        { headers: { 'x-request-id': 'ledger-stream' } },
      );
      let usage: (OpenAI.CompletionUsage & { cost?: number }) | undefined;
      for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
      expect(usage?.cost).toBeCloseTo((100 * 0.8 + 50 * 4) / 1e6, 12);

      openai.enqueue({ fault: { type: 'status', status: 400, message: 'bad thing' } });
      await expect(
        client.chat.completions.create(
          { model: 'gpt-4o', messages: [{ role: 'user', content: 'three' }] },
          { headers: { 'x-request-id': 'ledger-failed' } },
        ),
      ).rejects.toThrow();
      await expect(
        client.chat.completions.create(
          { model: 'no-such-model', messages: [{ role: 'user', content: 'four' }] },
          { headers: { 'x-request-id': 'ledger-unknown' } },
        ),
      ).rejects.toThrow(/model/);

      await waitFor(async () => (await records()).filter((record) => record.requestId.startsWith('ledger-')).length === 4);
      const byId = new Map((await records()).map((record) => [record.requestId, record]));
      expect(byId.get('ledger-plain')).toMatchObject({
        status: 'ok',
        stream: false,
        provider: 'openai',
        model: 'gpt-4o',
        promptTokens: 1000,
        completionTokens: 2000,
        httpStatus: 200,
        attempts: 1,
      });
      expect(byId.get('ledger-plain')?.costUsd).toBeCloseTo(expected, 12);
      expect(byId.get('ledger-stream')).toMatchObject({
        status: 'ok',
        stream: true,
        provider: 'anthropic',
        model: 'claude-3-5-haiku-latest',
        promptTokens: 100,
        completionTokens: 50,
      });
      expect(byId.get('ledger-stream')?.ttftMs).toBeGreaterThanOrEqual(0);
      expect(byId.get('ledger-failed')).toMatchObject({ status: 'error', httpStatus: 400, costUsd: 0 });
      expect(byId.get('ledger-unknown')).toMatchObject({ status: 'error', httpStatus: 404, errorCode: 'model_not_found' });
      // At LOG_LEVEL=debug every request is one structured access-log line, keyed by its request id.
      const line = gateway.logs
        .map((text) => JSON.parse(text) as Record<string, unknown>)
        .find((entry) => entry['requestId'] === 'ledger-plain');
      expect(line).toMatchObject({
        level: 'debug',
        msg: 'request finished',
        provider: 'openai',
        servedModel: 'gpt-4o',
        status: 200,
        promptTokens: 1000,
      });
    });

    it('reports costs in the seed shape with breakdowns and projections, and metrics in the getMetrics shape', async () => {
      const costs = await get<Record<string, unknown>>('/api/v1/costs?timeframe=last_24_hours&breakdown=provider,model,workflow,user,key');
      expect(costs).toMatchObject({
        timeframe: 'last_24_hours',
        total: expect.stringMatching(/^\$/),
        by_provider: { openai: expect.stringMatching(/^\$/), anthropic: expect.stringMatching(/^\$/) },
        by_model: { 'gpt-4o': expect.any(String), 'claude-3-5-haiku-latest': expect.any(String) },
        by_workflow: expect.any(Object),
        by_user: expect.any(Object),
        by_key: expect.any(Object),
        projections: { monthly: expect.stringMatching(/^\$/), trend: expect.stringMatching(/^(increasing|decreasing|stable)$/) },
      });
      expect(costs['total_usd']).toBeGreaterThan(0.02);
      const bad = await fetch(`${gateway.url}/api/v1/costs?breakdown=planet`, { headers });
      expect(bad.status).toBe(400);
      expect(await bad.text()).toContain('planet');
      const metrics = await get<Record<string, unknown>>('/api/v1/metrics?timeframe=last_hour&granularity=minute');
      expect(metrics).toMatchObject({
        requests: { total: expect.any(Number), successful: expect.any(Number), failed: expect.any(Number), rate: expect.any(Number) },
        latency: { p50: expect.any(Number), p95: expect.any(Number), p99: expect.any(Number) },
        providers: { openai: { requests: expect.any(Number), errors: expect.any(Number), avg_latency: expect.any(Number) } },
        costs: { total: expect.stringMatching(/^\$/), rate: expect.stringMatching(/\/hour$/) },
        workflows: { active: 0, completed: 0, failed: 0 },
      });
      expect((metrics['requests'] as { failed: number }).failed).toBeGreaterThanOrEqual(2);
    });

    it("lets a key read its own usage and nobody else's, without admin rights", async () => {
      const created = (await (
        await fetch(`${gateway.url}/api/v1/keys`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ name: 'reader', scopes: { budget: { limit_usd: 5, period: 'daily' } } }),
        })
      ).json()) as { key: string };
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${created.key}`, 'content-type': 'application/json', 'x-request-id': 'ledger-own' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'mine' }] }),
      });
      expect(response.status).toBe(200);
      await waitFor(async () => (await get<{ data: UsageRow[] }>('/api/v1/usage', created.key)).data.length === 1);
      const own = await get<{ data: UsageRow[] }>('/api/v1/usage', created.key);
      expect(own.data.map((record) => record.requestId)).toEqual(['ledger-own']);
      const costs = await get<{ requests: number }>('/api/v1/costs', created.key);
      expect(costs.requests).toBe(1);
      const info = await get<{ data: Record<string, unknown> }>('/api/v1/key', created.key);
      expect(info.data).toMatchObject({
        label: 'reader',
        limit: 5,
        limit_period: 'daily',
        usage: expect.any(Number),
        limit_remaining: expect.any(Number),
      });
    });

    it('exposes Prometheus metrics to the admin key only, with bounded labels', async () => {
      expect((await fetch(`${gateway.url}/metrics`)).status).toBe(401);
      const page = await fetch(`${gateway.url}/metrics`, { headers });
      expect(page.status).toBe(200);
      const text = await page.text();
      expect(text).toMatch(/cb_requests_total\{[^}]*provider="openai"[^}]*\} \d+/);
      expect(text).toMatch(/cb_cost_usd_total\{provider="openai",model="gpt-4o"\} 0\.02/);
      expect(text).toContain('cb_gateway_overhead_seconds_bucket');
      expect(text).not.toMatch(/key_[0-9a-f]{16}/);
    });

    it('loses no record of a completed response when the server is killed with SIGKILL', async () => {
      const ids = Array.from({ length: 60 }, (_, index) => `crash-${index}`);
      const answers = await Promise.all(
        ids.map(async (id, index) => {
          const response = await fetch(`${gateway.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { ...headers, 'x-request-id': id },
            body: JSON.stringify({
              model: 'gpt-4o-mini',
              stream: index % 2 === 0,
              messages: [{ role: 'user', content: `crash ${index}` }],
            }),
          });
          await response.text();
          return response.status;
        }),
      );
      expect(answers.every((status) => status === 200)).toBe(true);
      gateway.process.kill('SIGKILL');
      await new Promise((resolve) => gateway.process.once('exit', resolve));
      gateway = await startGateway({ env, dataDir });
      const stored = new Set((await records()).map((record) => record.requestId));
      expect(ids.filter((id) => !stored.has(id))).toEqual([]);
      expect(gateway.logs.join('\n')).toMatch(/replayed|listening/);
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
