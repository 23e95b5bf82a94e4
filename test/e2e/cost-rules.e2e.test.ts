import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../emulators/index.js';
import type { Emulator } from '../emulators/index.js';
import { startGateway } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';

/**
 * The seed's cost rules from the config file, through the real server: conditions in CEL or the seed's
 * SQL-like spelling, and the four actions (route_to_model, prefer_provider, apply_rate_limit,
 * batch_with_delay); plus the global rate limits of `rate_limits`.
 */
let upstream: Emulator;
let gateway: GatewayProcess;

beforeAll(async () => {
  upstream = await startEmulator({ kind: 'openai' });
  gateway = await startGateway({
    env: { UPSTREAM_KEY: 'sk-rules-upstream' },
    configYaml: `
providers:
  openai: { base_url: "${upstream.url}", api_keys: [env:UPSTREAM_KEY], models: [gpt-4o, gpt-4o-mini] }
  discount: { kind: openai_compatible, base_url: "${upstream.url}", discover: false, models: { gpt-4o: { input_price: 0.5, output_price: 2 } } }
rate_limits: { rpm: 1000 }
cost_rules:
  - name: Use cheaper model for simple tasks
    condition: "token_count < 50 AND complexity = 'low'"
    action: "route_to_model('gpt-4o-mini')"
  - name: Use the discount provider for development
    condition: "environment == 'development'"
    action: "prefer_provider('discount')"
  - name: Rate limit tagged traffic
    condition: "'limited' in tags && cost_today >= 0"
    action: "apply_rate_limit(2_requests_per_minute)"
  - name: Batch small requests
    condition: "'batch' in tags"
    action: "batch_with_delay(1_seconds, max_batch_size=3)"
`,
  });
}, 60_000);
afterAll(async () => {
  await gateway?.stop();
  await upstream?.close();
});

async function chat(body: object, headers: Record<string, string> = {}) {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], ...body }),
  });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

describe('cost rules', () => {
  it('routes a small, low-complexity request to the cheaper model, and says so', async () => {
    const small = await chat({ circuit_breaker: { complexity: 'low' } });
    expect(small.status).toBe(200);
    expect(small.headers.get('x-cb-model')).toBe('gpt-4o-mini');
    expect(small.headers.get('x-cb-warnings')).toContain("cost rule 'Use cheaper model for simple tasks' routed gpt-4o to gpt-4o-mini");
    const large = await chat({ circuit_breaker: { complexity: 'low' }, messages: [{ role: 'user', content: 'word '.repeat(100) }] });
    expect(large.headers.get('x-cb-model')).toBe('gpt-4o');
    const complex = await chat({ circuit_breaker: { complexity: 'high' } });
    expect(complex.headers.get('x-cb-model')).toBe('gpt-4o');
  });

  it('prefers a provider for development traffic', async () => {
    expect((await chat({})).headers.get('x-cb-provider')).toBe('openai');
    expect((await chat({}, { 'x-cb-environment': 'development' })).headers.get('x-cb-provider')).toBe('discount');
  });

  it('applies a rule rate limit to the traffic it matches only', async () => {
    const tagged = { 'x-cb-tags': 'limited' };
    expect((await chat({}, tagged)).status).toBe(200);
    expect((await chat({}, tagged)).status).toBe(200);
    const limited = await chat({}, tagged);
    expect(limited.status).toBe(429);
    expect(limited.body).toContain("cost rule 'Rate limit tagged traffic'");
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await chat({})).status).toBe(200);
  });

  it('batches matching requests: a full batch goes at once, a partial one after the delay', async () => {
    const tagged = { 'x-cb-tags': 'batch' };
    let started = Date.now();
    const full = await Promise.all([chat({}, tagged), chat({}, tagged), chat({}, tagged)]);
    expect(full.map((result) => result.status)).toEqual([200, 200, 200]);
    expect(Date.now() - started).toBeLessThan(900);
    started = Date.now();
    const partial = await chat({}, tagged);
    expect(partial.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('applies the global rate limit to every request', async () => {
    const answer = await chat({});
    expect(answer.headers.get('x-ratelimit-limit-requests')).toBe('1000');
  });
});
