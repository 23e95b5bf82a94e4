import { describe, expect, it } from 'vitest';
import { parsePrometheusText, sampleValue } from '../../test/support/prometheus-text.js';
import type { PromExposition } from '../../test/support/prometheus-text.js';
import { GatewayMetrics } from './gateway-metrics.js';

async function scrape(gateway: GatewayMetrics): Promise<PromExposition> {
  return parsePrometheusText((await gateway.render()).body);
}

function metrics(): GatewayMetrics {
  return new GatewayMetrics({ providers: ['openai', 'ollama'], defaultMetrics: false, maxLabelValues: 2 });
}

describe('scrape-time sources', () => {
  it('exports no series for a source that is not set', async () => {
    const page = await scrape(metrics());
    for (const name of [
      'cb_circuit_state',
      'cb_provider_healthy',
      'cb_budget_remaining_usd',
      'cb_workflow_instances',
      'cb_function_executions_total',
    ]) {
      expect(page.samples.filter((sample) => sample.name === name)).toEqual([]);
    }
  });

  it('reads every gauge from its callback at each scrape', async () => {
    const gateway = metrics();
    let depth = 3;
    gateway.setSources({
      circuits: () => [
        { provider: 'openai', model: 'gpt-4o', state: 'closed' },
        { provider: 'openai', model: 'gpt-4o-mini', state: 'half_open' },
        { provider: 'ollama', model: 'gpt-4o', state: 'open' },
      ],
      providerHealth: () => [
        { provider: 'openai', healthy: true },
        { provider: 'ollama', healthy: false },
      ],
      budgets: () => [{ budget: 'team-a', limitUsd: 100, remainingUsd: 42.5 }],
      ledgerQueueDepth: () => depth,
      workflowInstances: () => [
        { status: 'running', count: 4 },
        { status: 'completed', count: 10 },
      ],
      functionExecutions: () => [{ status: 'succeeded', total: 7 }],
    });
    let page = await scrape(gateway);
    expect(sampleValue(page, 'cb_circuit_state', { provider: 'openai', model: 'gpt-4o' })).toBe(0);
    expect(sampleValue(page, 'cb_circuit_state', { provider: 'openai', model: 'gpt-4o-mini' })).toBe(1);
    expect(sampleValue(page, 'cb_circuit_state', { provider: 'ollama', model: 'gpt-4o' })).toBe(2);
    expect(sampleValue(page, 'cb_provider_healthy', { provider: 'openai' })).toBe(1);
    expect(sampleValue(page, 'cb_provider_healthy', { provider: 'ollama' })).toBe(0);
    expect(sampleValue(page, 'cb_budget_remaining_usd', { budget: 'team-a' })).toBe(42.5);
    expect(sampleValue(page, 'cb_budget_limit_usd', { budget: 'team-a' })).toBe(100);
    expect(sampleValue(page, 'cb_ledger_queue_depth')).toBe(3);
    expect(sampleValue(page, 'cb_workflow_instances', { status: 'running' })).toBe(4);
    expect(sampleValue(page, 'cb_function_executions_total', { status: 'succeeded' })).toBe(7);
    expect(page.types.get('cb_function_executions_total')).toBe('counter');

    depth = 0;
    gateway.setSources({ functionExecutions: () => [{ status: 'succeeded', total: 9 }] });
    page = await scrape(gateway);
    expect(sampleValue(page, 'cb_ledger_queue_depth')).toBe(0);
    expect(sampleValue(page, 'cb_function_executions_total', { status: 'succeeded' })).toBe(9);
    expect(sampleValue(page, 'cb_circuit_state', { model: 'gpt-4o-mini' })).toBe(1);
  });

  it('bounds gauge labels too, combining the series that land on the same labels', async () => {
    const gateway = metrics();
    gateway.setSources({
      circuits: () => [
        { provider: 'openai', model: 'a', state: 'closed' },
        { provider: 'openai', model: 'b', state: 'closed' },
        { provider: 'openai', model: 'c', state: 'open' },
        { provider: 'openai', model: 'd', state: 'half_open' },
        { provider: 'unknown-provider', model: 'a', state: 'closed' },
      ],
      providerHealth: () => [
        { provider: 'not-configured-1', healthy: true },
        { provider: 'not-configured-2', healthy: false },
      ],
    });
    const page = await scrape(gateway);
    // The worst state wins: models c and d are past the cap of 2 and share `other`.
    expect(sampleValue(page, 'cb_circuit_state', { provider: 'openai', model: 'other' })).toBe(2);
    expect(sampleValue(page, 'cb_circuit_state', { provider: 'other', model: 'a' })).toBe(0);
    expect(sampleValue(page, 'cb_provider_healthy', { provider: 'other' })).toBe(0);
  });

  it('leaves a throwing source empty for that scrape and counts the failure, without failing the page', async () => {
    const gateway = metrics();
    gateway.setSources({
      budgets: () => {
        throw new Error('store is down');
      },
      ledgerQueueDepth: () => 5,
    });
    const page = await scrape(gateway);
    expect(page.samples.filter((sample) => sample.name.startsWith('cb_budget_'))).toEqual([]);
    expect(sampleValue(page, 'cb_metrics_source_errors_total', { source: 'budgets' })).toBe(2);
    expect(sampleValue(page, 'cb_ledger_queue_depth')).toBe(5);
  });
});
