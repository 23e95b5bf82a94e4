import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePrometheusText, sampleValue } from '../../../test/support/prometheus-text.js';
import { GatewayMetrics } from '../../usage/gateway-metrics.js';
import { registerMetrics } from './metrics.js';

const app = Fastify();
afterEach(async () => {
  await app.close();
});

describe('GET /metrics', () => {
  it('serves the registry in Prometheus text format', async () => {
    const metrics = new GatewayMetrics({ providers: ['openai'], defaultMetrics: false });
    metrics.requestFinished({
      endpoint: 'chat_completions',
      provider: 'openai',
      status: 200,
      stream: false,
      durationMs: 5,
      overheadMs: 0.1,
      attempts: [],
    });
    registerMetrics(app, metrics);
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(sampleValue(parsePrometheusText(response.body), 'cb_requests_total', { provider: 'openai' })).toBe(1);
  });
});
