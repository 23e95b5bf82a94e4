import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ErrorCode } from '../../src/core/errors.js';
import { GatewayMetrics } from '../../src/usage/gateway-metrics.js';
import { parsePrometheusText } from '../support/prometheus-text.js';
import { checkExpression, exposedMetrics } from './promql-check.js';
import type { ExposedMetrics, KnownValues } from './promql-check.js';

const deploy = join(import.meta.dirname, '..', '..', 'deploy');

interface GrafanaTarget {
  expr?: string;
  datasource?: { uid?: string };
}
interface GrafanaPanel {
  id: number;
  title: string;
  type: string;
  datasource?: { uid?: string };
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
}
interface Dashboard {
  schemaVersion: number;
  __inputs: { name: string; type: string; pluginId: string }[];
  templating: { list: { name: string; query: string | { query: string } }[] };
  panels: GrafanaPanel[];
}
interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
}

const dashboard = JSON.parse(readFileSync(join(deploy, 'grafana', 'circuit-breaker-overview.json'), 'utf8')) as Dashboard;
const rules = (
  parseYaml(readFileSync(join(deploy, 'prometheus', 'alerts.yml'), 'utf8')) as { groups: { rules: AlertRule[] }[] }
).groups.flatMap((group) => group.rules);
const hasPromtool = spawnSync('promtool', ['--version']).status === 0;
const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
const panelExpressions = panels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ where: panel.title, expr: target.expr ?? '' })),
);

/** One of every sample and every scrape source, so every metric family has series to compare against. */
async function exposeEverything(): Promise<ExposedMetrics> {
  const metrics = new GatewayMetrics({ providers: ['openai', 'anthropic'] });
  const ok = { endpoint: 'chat_completions', provider: 'openai', model: 'gpt-4o', status: 200, durationMs: 900, overheadMs: 0.3 } as const;
  metrics.requestFinished({
    ...ok,
    stream: true,
    ttftMs: 200,
    usage: { prompt: 9, completion: 5, cached: 4, reasoning: 2 },
    costUsd: 0.1,
    attempts: [{ provider: 'openai', outcome: 'ok' }],
  });
  metrics.requestFinished({
    ...ok,
    stream: false,
    status: 502,
    code: 'upstream_error',
    attempts: [{ provider: 'anthropic', outcome: 'upstream_timeout' }],
  });
  metrics.requestFinished({ ...ok, stream: false, status: 400, code: 'invalid_request', attempts: [] });
  metrics.setSources({
    circuits: () => [{ provider: 'openai', model: 'gpt-4o', state: 'open' }],
    providerHealth: () => [{ provider: 'openai', healthy: true }],
    budgets: () => [{ budget: 'monthly', limitUsd: 100, remainingUsd: 60 }],
    ledgerQueueDepth: () => 0,
    workflowInstances: () => [{ status: 'running', count: 1 }],
    functionExecutions: () => [{ status: 'succeeded', total: 1 }],
  });
  return exposedMetrics(parsePrometheusText((await metrics.render()).body));
}

/** The closed label sets of src/usage: a rule may match a code no sample here produced. */
const codes = [...Object.values(ErrorCode), 'other', 'none'];
const known: KnownValues = new Map([
  ['code', codes],
  ['outcome', [...codes, 'ok']],
  ['fault', ['client', 'server']],
  ['type', ['prompt', 'completion', 'cached', 'reasoning']],
  ['status_class', ['1xx', '2xx', '3xx', '4xx', '5xx', 'other']],
  ['stream', ['true', 'false']],
]);

let exposed: ExposedMetrics;
beforeAll(async () => {
  exposed = await exposeEverything();
});

describe('the PromQL checker', () => {
  it('accepts a correct expression and reports each kind of drift', () => {
    expect(checkExpression('sum by (provider) (rate(cb_requests_total{status_class="5xx"}[$__rate_interval]))', exposed)).toEqual([]);
    expect(checkExpression('rate(cb_request_total[5m])', exposed)).toEqual(['unknown metric cb_request_total']);
    expect(checkExpression('rate(cb_requests_total{user="u1"}[5m])', exposed)).toEqual(['cb_requests_total has no label user']);
    expect(checkExpression('rate(cb_request_errors_total{fault="sever"}[5m])', exposed)).toEqual([
      'cb_request_errors_total{fault="sever"}: sever matches none of server, client',
    ]);
    expect(checkExpression('rate(cb_upstream_attempts_total{outcome=~"ok|upstrem_.*"}[5m])', exposed, known)).toEqual([
      expect.stringMatching(/^cb_upstream_attempts_total\{outcome=~"ok\|upstrem_\.\*"\}: upstrem_\.\* matches none of /),
    ]);
    expect(checkExpression('rate(cb_request_errors_total{code="upstream_timeout"}[5m])', exposed, known)).toEqual([]);
    expect(checkExpression('sum by (model) (cb_gateway_overhead_seconds_count)', exposed)).toEqual([
      'no metric of the expression has label model',
    ]);
    expect(checkExpression('sum(rate(cb_requests_total[5m])', exposed)[0]).toMatch(/^syntax error/);
  });
});

describe('the Prometheus text parser', () => {
  it('rejects a malformed page in the test parser (the format check can fail)', () => {
    expect(() => parsePrometheusText('cb_requests_total{provider="openai" 1')).toThrow(/Not a Prometheus sample line/);
    expect(() => parsePrometheusText('cb_requests_total one')).toThrow(/Bad sample value/);
  });
});

describe('deploy/grafana/circuit-breaker-overview.json', () => {
  it('is an importable dashboard on a ${DS_PROMETHEUS} input', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(38);
    expect(dashboard.__inputs).toContainEqual(
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }),
    );
    expect(new Set(panels.map((panel) => panel.id)).size).toBe(panels.length);
    for (const panel of panels.filter((panel) => panel.type !== 'row')) {
      expect(panel.datasource?.uid, panel.title).toBe('${DS_PROMETHEUS}');
      for (const target of panel.targets ?? []) expect(target.datasource?.uid, panel.title).toBe('${DS_PROMETHEUS}');
    }
  });

  it('has the overview panels', () => {
    const expressions = panelExpressions.map((entry) => entry.expr).join('\n');
    for (const needed of [
      'cb_requests_total',
      'cb_request_errors_total',
      'histogram_quantile(0.99, sum by (le) (rate(cb_request_duration_seconds_bucket',
      'histogram_quantile(0.95, sum by (le, provider) (rate(cb_time_to_first_token_seconds_bucket',
      'histogram_quantile(0.99, sum by (le) (rate(cb_gateway_overhead_seconds_bucket',
      'sum by (type) (rate(cb_tokens_total',
      'sum by (provider, model) (rate(cb_cost_usd_total',
      'cb_circuit_state',
      'cb_budget_remaining_usd',
    ]) {
      expect(expressions).toContain(needed);
    }
  });

  it('queries only metrics and labels the registry exposes', () => {
    expect(panelExpressions.length).toBeGreaterThanOrEqual(12);
    const problems = panelExpressions.flatMap(({ where, expr }) =>
      checkExpression(expr, exposed, known).map((problem) => `${where}: ${problem}`),
    );
    expect(problems).toEqual([]);
  });

  it('fills its template variables from exposed metrics and labels', () => {
    for (const variable of dashboard.templating.list) {
      const query = typeof variable.query === 'string' ? variable.query : variable.query.query;
      const match = /^label_values\((\w+),\s*(\w+)\)$/.exec(query);
      expect(match, query).not.toBeNull();
      expect(exposed.get(match?.[1] ?? '')?.has(match?.[2] ?? ''), query).toBe(true);
    }
  });
});

describe('deploy/prometheus', () => {
  it('alerts.yml holds the three seed alerts, each over exposed metrics only', () => {
    expect(rules.map((rule) => [rule.alert, rule.for])).toEqual([
      ['CircuitBreakerHighErrorRate', '5m'],
      ['CircuitBreakerProviderAvailabilityLow', '2m'],
      ['CircuitBreakerDailyCostHigh', '5m'],
    ]);
    expect(rules[0]?.expr).toMatch(/> 0\.05\s*$/);
    expect(rules[1]?.expr).toMatch(/< 0\.9\s*$/);
    expect(rules[2]?.expr).toMatch(/increase\(cb_cost_usd_total\[24h\]\)\) > 500\s*$/);
    const problems = rules.flatMap((rule) => checkExpression(rule.expr, exposed, known).map((problem) => `${rule.alert}: ${problem}`));
    expect(problems).toEqual([]);
  });

  it('prometheus.yml scrapes /metrics and loads the alert rules', () => {
    const config = parseYaml(readFileSync(join(deploy, 'prometheus', 'prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; metrics_path: string; authorization?: { type: string } }[];
    };
    expect(config.rule_files).toContain('alerts.yml');
    expect(config.scrape_configs[0]).toMatchObject({
      job_name: 'circuit-breaker',
      metrics_path: '/metrics',
      authorization: { type: 'Bearer' },
    });
  });

  // promtool ships with Prometheus (Debian: apt-get install prometheus); without it this test is skipped.
  it.skipIf(!hasPromtool)('promtool runs alerts.test.yml: each alert fires when it should and only then', () => {
    const result = spawnSync('promtool', ['test', 'rules', join(deploy, 'prometheus', 'alerts.test.yml')], { encoding: 'utf8' });
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });
});
