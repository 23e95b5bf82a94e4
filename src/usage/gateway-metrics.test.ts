import { describe, expect, it } from 'vitest';
import { parsePrometheusText, sampleValue } from '../../test/support/prometheus-text.js';
import type { PromExposition } from '../../test/support/prometheus-text.js';
import { GatewayMetrics } from './gateway-metrics.js';
import type { RequestSample } from './request-sample.js';

const base: RequestSample = {
  endpoint: 'chat_completions',
  provider: 'openai',
  model: 'gpt-4o',
  status: 200,
  stream: false,
  durationMs: 800,
  overheadMs: 0.05,
  attempts: [{ provider: 'openai', outcome: 'ok' }],
};

function metrics(options: { maxLabelValues?: number } = {}): GatewayMetrics {
  return new GatewayMetrics({ providers: ['openai', 'anthropic'], defaultMetrics: false, ...options });
}

async function scrape(gateway: GatewayMetrics): Promise<PromExposition> {
  return parsePrometheusText((await gateway.render()).body);
}

describe('GatewayMetrics.requestFinished', () => {
  it('counts requests, errors, latencies, tokens, cost and attempts', async () => {
    const gateway = metrics();
    gateway.requestFinished({ ...base, usage: { prompt: 100, completion: 20, cached: 60 }, costUsd: 0.25 });
    gateway.requestFinished({
      ...base,
      stream: true,
      ttftMs: 300,
      durationMs: 2_000,
      usage: { prompt: 10, completion: 5, reasoning: 3 },
      costUsd: 0.5,
    });
    gateway.requestFinished({
      ...base,
      provider: 'anthropic',
      model: 'claude-3-5-sonnet-latest',
      status: 503,
      code: 'no_provider_available',
      attempts: [
        { provider: 'anthropic', outcome: 'upstream_timeout' },
        { provider: 'openai', outcome: 'upstream_unavailable' },
      ],
    });
    gateway.requestFinished({ ...base, status: 400, code: 'invalid_request', provider: undefined, model: 'nope', attempts: [] });
    const page = await scrape(gateway);

    expect(
      sampleValue(page, 'cb_requests_total', {
        provider: 'openai',
        model: 'gpt-4o',
        status_class: '2xx',
        stream: 'false',
        endpoint: 'chat_completions',
      }),
    ).toBe(1);
    expect(sampleValue(page, 'cb_requests_total', { provider: 'openai', stream: 'true' })).toBe(1);
    expect(sampleValue(page, 'cb_requests_total', { provider: 'anthropic', status_class: '5xx' })).toBe(1);
    expect(sampleValue(page, 'cb_requests_total', { provider: 'none', model: 'nope', status_class: '4xx' })).toBe(1);
    expect(sampleValue(page, 'cb_request_errors_total', { provider: 'anthropic', code: 'no_provider_available', fault: 'server' })).toBe(1);
    expect(sampleValue(page, 'cb_request_errors_total', { provider: 'none', code: 'invalid_request', fault: 'client' })).toBe(1);
    expect(page.samples.filter((sample) => sample.name === 'cb_request_errors_total')).toHaveLength(2);

    expect(sampleValue(page, 'cb_request_duration_seconds_count', { provider: 'openai', stream: 'false' })).toBe(1);
    expect(sampleValue(page, 'cb_request_duration_seconds_sum', { provider: 'openai', stream: 'true' })).toBeCloseTo(2);
    expect(sampleValue(page, 'cb_request_duration_seconds_bucket', { provider: 'openai', stream: 'false', le: '0.5' })).toBe(0);
    expect(sampleValue(page, 'cb_request_duration_seconds_bucket', { provider: 'openai', stream: 'false', le: '1' })).toBe(1);
    expect(sampleValue(page, 'cb_time_to_first_token_seconds_count', { provider: 'openai' })).toBe(1);
    expect(sampleValue(page, 'cb_time_to_first_token_seconds_sum', { provider: 'openai' })).toBeCloseTo(0.3);
    expect(sampleValue(page, 'cb_time_to_first_token_seconds_count', { provider: 'anthropic' })).toBeUndefined();
    expect(sampleValue(page, 'cb_gateway_overhead_seconds_bucket', { le: '0.0001' })).toBe(4);
    expect(sampleValue(page, 'cb_gateway_overhead_seconds_count')).toBe(4);

    expect(sampleValue(page, 'cb_tokens_total', { provider: 'openai', model: 'gpt-4o', type: 'prompt' })).toBe(110);
    expect(sampleValue(page, 'cb_tokens_total', { type: 'completion' })).toBe(25);
    expect(sampleValue(page, 'cb_tokens_total', { type: 'cached' })).toBe(60);
    expect(sampleValue(page, 'cb_tokens_total', { type: 'reasoning' })).toBe(3);
    expect(sampleValue(page, 'cb_cost_usd_total', { provider: 'openai', model: 'gpt-4o' })).toBeCloseTo(0.75);

    expect(sampleValue(page, 'cb_upstream_attempts_total', { provider: 'openai', outcome: 'ok' })).toBe(2);
    expect(sampleValue(page, 'cb_upstream_attempts_total', { provider: 'anthropic', outcome: 'upstream_timeout' })).toBe(1);
    expect(sampleValue(page, 'cb_upstream_attempts_total', { provider: 'openai', outcome: 'upstream_unavailable' })).toBe(1);
  });

  it('keeps counting across scrapes (pending increments are not lost or counted twice)', async () => {
    const gateway = metrics();
    gateway.requestFinished(base);
    expect(sampleValue(await scrape(gateway), 'cb_requests_total', { provider: 'openai' })).toBe(1);
    expect(sampleValue(await scrape(gateway), 'cb_requests_total', { provider: 'openai' })).toBe(1);
    gateway.requestFinished(base);
    gateway.requestFinished(base);
    expect(sampleValue(await scrape(gateway), 'cb_requests_total', { provider: 'openai' })).toBe(3);
  });

  it('counts a stream cut after its first byte as an error of a 2xx request', async () => {
    const gateway = metrics();
    gateway.requestFinished({ ...base, stream: true, code: 'upstream_error' });
    const page = await scrape(gateway);
    expect(sampleValue(page, 'cb_requests_total', { status_class: '2xx', stream: 'true' })).toBe(1);
    expect(sampleValue(page, 'cb_request_errors_total', { code: 'upstream_error', fault: 'server' })).toBe(1);
  });

  it('skips negative and non-finite amounts instead of throwing', async () => {
    const gateway = metrics();
    expect(() =>
      gateway.requestFinished({
        ...base,
        durationMs: Number.NaN,
        overheadMs: -1,
        costUsd: Infinity,
        usage: { prompt: -5, completion: Number.NaN },
      }),
    ).not.toThrow();
    const page = await scrape(gateway);
    expect(sampleValue(page, 'cb_requests_total', { provider: 'openai' })).toBe(1);
    expect(sampleValue(page, 'cb_request_duration_seconds_count', { provider: 'openai' })).toBeUndefined();
    expect(sampleValue(page, 'cb_gateway_overhead_seconds_count')).toBe(0);
    expect(page.samples.some((sample) => sample.name === 'cb_cost_usd_total' || sample.name === 'cb_tokens_total')).toBe(false);
  });
});

describe('bounded labels', () => {
  it('keeps the first maxLabelValues models and records every later one as other', async () => {
    const gateway = metrics({ maxLabelValues: 3 });
    for (const model of ['m1', 'm2', 'm3', 'm4', 'm5', 'm1']) gateway.requestFinished({ ...base, model, costUsd: 1 });
    const page = await scrape(gateway);
    const models = page.samples.filter((sample) => sample.name === 'cb_requests_total').map((sample) => sample.labels.model);
    expect(models.sort()).toEqual(['m1', 'm2', 'm3', 'other']);
    expect(sampleValue(page, 'cb_requests_total', { model: 'm1' })).toBe(2);
    expect(sampleValue(page, 'cb_requests_total', { model: 'other' })).toBe(2);
    expect(sampleValue(page, 'cb_cost_usd_total', { model: 'other' })).toBe(2);
  });

  it('caps at 100 distinct models by default, whatever clients send', async () => {
    const gateway = metrics();
    for (let index = 0; index < 1_000; index++) gateway.requestFinished({ ...base, model: `client-${index}/some-model` });
    const page = await scrape(gateway);
    const series = page.samples.filter((sample) => sample.name === 'cb_requests_total');
    expect(series).toHaveLength(101);
    expect(sampleValue(page, 'cb_requests_total', { model: 'other' })).toBe(900);
  });

  it('takes provider values from the configured providers and codes from ErrorCode only', async () => {
    const gateway = metrics();
    gateway.requestFinished({
      ...base,
      provider: 'evil-provider',
      status: 502,
      code: 'made_up_code',
      attempts: [{ provider: 'x', outcome: 'boom' }],
    });
    gateway.requestFinished({ ...base, status: 599 });
    const page = await scrape(gateway);
    expect(sampleValue(page, 'cb_requests_total', { provider: 'other', status_class: '5xx' })).toBe(1);
    expect(sampleValue(page, 'cb_request_errors_total', { provider: 'other', code: 'other', fault: 'server' })).toBe(1);
    expect(sampleValue(page, 'cb_request_errors_total', { provider: 'openai', code: 'none', fault: 'server' })).toBe(1);
    expect(sampleValue(page, 'cb_upstream_attempts_total', { provider: 'other', outcome: 'other' })).toBe(1);
  });

  it('cuts very long model names so a series key stays small', async () => {
    const gateway = metrics();
    gateway.requestFinished({ ...base, model: 'x'.repeat(5_000) });
    const model = (await scrape(gateway)).samples.find((sample) => sample.name === 'cb_requests_total')?.labels.model ?? '';
    expect(model.length).toBeLessThanOrEqual(120);
  });

  it('never uses ids as labels: every label name is from the documented set', async () => {
    const gateway = new GatewayMetrics({ providers: ['openai'] });
    gateway.requestFinished({
      ...base,
      stream: true,
      ttftMs: 200,
      usage: { prompt: 1, completion: 1 },
      costUsd: 1,
      code: 'upstream_error',
    });
    const allowed = ['provider', 'model', 'status_class', 'stream', 'endpoint', 'code', 'fault', 'type', 'outcome', 'le', 'source'];
    const defaults = ['kind', 'space', 'version', 'major', 'minor', 'patch', 'type'];
    const names = new Set((await scrape(gateway)).samples.flatMap((sample) => Object.keys(sample.labels)));
    for (const name of names) expect([...allowed, ...defaults]).toContain(name);
  });
});

describe('GatewayMetrics.render', () => {
  it('serves the Prometheus text format, default metrics prefixed cb_', async () => {
    const gateway = new GatewayMetrics({ providers: ['openai'] });
    gateway.requestFinished(base);
    const { contentType, body } = await gateway.render();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const page = parsePrometheusText(body);
    expect(page.types.get('cb_requests_total')).toBe('counter');
    expect(page.types.get('cb_request_duration_seconds')).toBe('histogram');
    expect(page.types.get('cb_circuit_state')).toBe('gauge');
    expect(page.types.get('cb_process_cpu_user_seconds_total')).toBe('counter');
    expect(page.types.has('cb_nodejs_eventloop_lag_p99_seconds')).toBe(true);
    expect([...page.types.keys()].filter((name) => !name.startsWith('cb_'))).toEqual([]);
  });
});
