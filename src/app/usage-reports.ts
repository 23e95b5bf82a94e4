import type { Clock } from '../core/clock.js';
import { invalidRequest } from '../core/errors.js';
import type { UsageDimension, UsageFilter, UsageGroup, UsageRepository, UsageTotals } from '../storage/usage-repository.js';
import { periodStart } from '../usage/budget-periods.js';
import { formatUsd } from '../usage/cost.js';

const hour = 3_600_000;
const day = 24 * hour;
const timeframes: Record<string, (now: number) => number> = {
  last_hour: (now) => now - hour,
  last_24_hours: (now) => now - day,
  last_7_days: (now) => now - 7 * day,
  last_30_days: (now) => now - 30 * day,
  today: (now) => periodStart('daily', now),
  this_month: (now) => periodStart('monthly', now),
};
export const timeframeNames = Object.keys(timeframes);

const granularities: Record<string, number> = { minute: 60_000, hour, day };
export const breakdownNames = ['provider', 'model', 'workflow', 'user', 'key', 'team', 'project'] as const;
export type Breakdown = (typeof breakdownNames)[number];
const dimensionOf: Record<Breakdown, UsageDimension> = {
  provider: 'provider',
  model: 'model',
  workflow: 'workflow',
  user: 'user',
  key: 'key',
  team: 'team',
  project: 'project',
};

export interface ReportWindow {
  timeframe?: string;
  from?: string;
  to?: string;
}

/** A workflow counter source, filled in by the workflow engine when it is wired. */
export type WorkflowCounts = () => Promise<{ active: number; completed: number; failed: number }>;

/**
 * The analytics over the usage ledger, in the seed's shapes: `getCostAnalysis` (totals, `by_*`
 * breakdowns as dollar strings, projections) and `getMetrics` (requests, latency percentiles, per
 * provider, costs, workflows), each with exact numbers beside the formatted ones. `scope` restricts a
 * report to one key (what a non-admin key may read).
 */
export class UsageReports {
  constructor(
    private readonly usage: UsageRepository,
    private readonly clock: Clock,
    private readonly workflows: WorkflowCounts = async () => ({ active: 0, completed: 0, failed: 0 }),
  ) {}

  async costs(window: ReportWindow, breakdown: readonly Breakdown[], scope: { keyId?: string } = {}) {
    const filter = { ...this.window(window), ...scope };
    const totals = await this.usage.totals(filter);
    const report: Record<string, unknown> = {
      timeframe: window.timeframe ?? 'custom',
      from: new Date(filter.from).toISOString(),
      to: new Date(filter.to).toISOString(),
      total: formatUsd(totals.costUsd),
      total_usd: round(totals.costUsd),
      requests: totals.requests,
      failed_requests: totals.failed,
      tokens: { prompt: totals.promptTokens, completion: totals.completionTokens },
    };
    for (const name of breakdown) {
      const groups = await this.usage.groupBy(filter, dimensionOf[name]);
      report[`by_${name}`] = Object.fromEntries(groups.map((group) => [group.key ?? '(none)', formatUsd(group.costUsd)]));
      report[`${name}_details`] = groups.map(detail);
    }
    report['projections'] = await this.projections(filter, totals);
    return report;
  }

  async metrics(window: ReportWindow, granularity = 'minute', scope: { keyId?: string } = {}) {
    const bucketMs = granularities[granularity];
    if (bucketMs === undefined) throw invalidRequest(`granularity must be one of ${Object.keys(granularities).join(', ')}.`, 'granularity');
    const filter = { ...this.window({ timeframe: 'last_hour', ...window }), ...scope };
    const totals = await this.usage.totals(filter);
    const [p50, p95, p99] = await this.usage.latencyPercentiles(filter, [0.5, 0.95, 0.99]);
    const providers = await this.usage.groupBy(filter, 'provider');
    const spanMs = Math.max(1, filter.to - filter.from);
    const series = await this.usage.series(filter, bucketMs);
    return {
      timeframe: window.timeframe ?? 'last_hour',
      granularity,
      requests: {
        total: totals.requests,
        successful: totals.requests - totals.failed,
        failed: totals.failed,
        /** Requests per granularity unit over the window. */
        rate: round((totals.requests / spanMs) * bucketMs),
      },
      latency: { p50: rounded(p50), p95: rounded(p95), p99: rounded(p99) },
      providers: Object.fromEntries(
        providers.map((group) => [
          group.key ?? '(none)',
          {
            requests: group.requests,
            errors: group.failed,
            avg_latency: group.requests ? Math.round(group.latencyMsSum / group.requests) : 0,
          },
        ]),
      ),
      costs: {
        total: formatUsd(totals.costUsd),
        total_usd: round(totals.costUsd),
        rate: `${formatUsd((totals.costUsd / spanMs) * hour)}/hour`,
      },
      workflows: await this.workflows(),
      series: series.map((bucket) => ({
        start: new Date(bucket.start).toISOString(),
        requests: bucket.requests,
        failed: bucket.failed,
        cost_usd: round(bucket.costUsd),
        avg_latency_ms: bucket.requests ? Math.round(bucket.latencyMsSum / bucket.requests) : 0,
      })),
    };
  }

  async records(window: ReportWindow, limit: number, scope: { keyId?: string } = {}) {
    return this.usage.list({ ...this.window(window), ...scope }, Math.min(Math.max(1, limit), 1000));
  }

  /** The window a report covers: a named timeframe (default last 24 hours) or explicit ISO `from`/`to`. */
  window(window: ReportWindow): UsageFilter {
    const now = this.clock.now();
    if (window.from !== undefined || window.to !== undefined) {
      const from = window.from === undefined ? now - day : Date.parse(window.from);
      const to = window.to === undefined ? now + 1 : Date.parse(window.to);
      if (Number.isNaN(from) || Number.isNaN(to) || from >= to)
        throw invalidRequest(
          'from and to must be ISO dates (2026-12-01T00:00:00Z) with from before to.',
          Number.isNaN(from) ? 'from' : 'to',
        );
      return { from, to };
    }
    const name = window.timeframe ?? 'last_24_hours';
    const start = timeframes[name];
    if (!start) throw invalidRequest(`timeframe must be one of ${timeframeNames.join(', ')} (or give from and to).`, 'timeframe');
    return { from: start(now), to: now + 1 };
  }

  /** Monthly projection from the window's spend rate; trend from the window's second half against its first. */
  private async projections(filter: UsageFilter, totals: UsageTotals) {
    const spanMs = Math.max(hour, filter.to - filter.from);
    const monthly = (totals.costUsd / spanMs) * 30 * day;
    const middle = filter.from + Math.floor((filter.to - filter.from) / 2);
    const first = (await this.usage.totals({ ...filter, to: middle })).costUsd;
    const second = (await this.usage.totals({ ...filter, from: middle })).costUsd;
    const trend =
      first === 0 && second === 0 ? 'stable' : second > first * 1.1 ? 'increasing' : second < first * 0.9 ? 'decreasing' : 'stable';
    return { monthly: formatUsd(monthly), monthly_usd: round(monthly), trend };
  }
}

function detail(group: UsageGroup) {
  return {
    key: group.key,
    cost_usd: round(group.costUsd),
    requests: group.requests,
    failed: group.failed,
    prompt_tokens: group.promptTokens,
    completion_tokens: group.completionTokens,
  };
}

function round(value: number): number {
  return Number(value.toPrecision(12));
}

function rounded(value: number | undefined): number | null {
  return value === undefined ? null : Math.round(value);
}
