import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { BoundedLabel } from './bounded-label.js';

/** A circuit's state as `routing/circuit-breaker.ts` names it. */
export type CircuitStateName = 'closed' | 'half_open' | 'open';

/** `cb_circuit_state` values: the higher, the worse. */
export const circuitStateValue: Record<CircuitStateName, number> = { closed: 0, half_open: 1, open: 2 };

/**
 * What the container knows and the registry reads at scrape time (never on the request path). Each
 * callback is optional; a metric whose source is not set exports no series. A callback that throws
 * leaves its metric empty for that scrape and counts `cb_metrics_source_errors_total{source}`.
 */
export interface ScrapeSources {
  circuits: () => readonly { provider: string; model: string; state: CircuitStateName }[];
  providerHealth: () => readonly { provider: string; healthy: boolean }[];
  budgets: () => readonly { budget: string; limitUsd: number; remainingUsd: number }[];
  ledgerQueueDepth: () => number;
  workflowInstances: () => readonly { status: string; count: number }[];
  /** Cumulative executions since the runner started (a counter: never goes down). */
  functionExecutions: () => readonly { status: string; total: number }[];
}

/** The bounded labels the scrape-time metrics share with the request metrics. */
export interface ScrapeLabels {
  provider: BoundedLabel;
  model: BoundedLabel;
  budget: BoundedLabel;
  status: BoundedLabel;
}

type Labels = Record<string, string>;
type Emit = (labels: Labels, value: number) => void;
type Combine = (previous: number, next: number) => number;
const sum: Combine = (previous, next) => previous + next;

/** Registers the `cb_*` metrics fed by `ScrapeSources`; `read` returns the sources set so far. */
export function registerScrapeMetrics(registry: Registry, labels: ScrapeLabels, read: () => Partial<ScrapeSources>): void {
  /** Reads one source; series that land on the same bounded labels (models past the cap) are combined. */
  function gather<K extends keyof ScrapeSources>(
    key: K,
    combine: Combine,
    fill: (source: ScrapeSources[K], emit: Emit) => void,
    write: Emit,
  ) {
    const source = read()[key];
    if (source === undefined) return;
    const series = new Map<string, { labels: Labels; value: number }>();
    try {
      fill(source, (seriesLabels, value) => {
        const id = Object.values(seriesLabels).join('\u0000');
        const previous = series.get(id);
        series.set(id, { labels: seriesLabels, value: previous ? combine(previous.value, value) : value });
      });
    } catch {
      sourceErrors.inc({ source: key });
      return;
    }
    for (const entry of series.values()) write(entry.labels, entry.value);
  }

  function gauge<K extends keyof ScrapeSources>(
    name: string,
    help: string,
    labelNames: string[],
    key: K,
    combine: Combine,
    fill: (source: ScrapeSources[K], emit: Emit) => void,
  ): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        gather(key, combine, fill, (seriesLabels, value) => this.set(seriesLabels, value));
      },
    });
  }

  gauge(
    'cb_circuit_state',
    'Circuit of each deployment: 0 closed, 1 half-open, 2 open.',
    ['provider', 'model'],
    'circuits',
    Math.max,
    (source, emit) => {
      for (const circuit of source()) {
        emit(
          { provider: labels.provider.value(circuit.provider), model: labels.model.value(circuit.model) },
          circuitStateValue[circuit.state],
        );
      }
    },
  );
  gauge(
    'cb_provider_healthy',
    'Whether a provider can take requests now: 1 yes, 0 no.',
    ['provider'],
    'providerHealth',
    Math.min,
    (source, emit) => {
      for (const entry of source()) emit({ provider: labels.provider.value(entry.provider) }, entry.healthy ? 1 : 0);
    },
  );
  gauge('cb_budget_remaining_usd', 'USD left in each budget for its current period.', ['budget'], 'budgets', sum, (source, emit) => {
    for (const entry of source()) emit({ budget: labels.budget.value(entry.budget) }, entry.remainingUsd);
  });
  gauge('cb_budget_limit_usd', 'Limit of each budget for its period, USD.', ['budget'], 'budgets', sum, (source, emit) => {
    for (const entry of source()) emit({ budget: labels.budget.value(entry.budget) }, entry.limitUsd);
  });
  gauge('cb_ledger_queue_depth', 'Usage records waiting to be written to the ledger.', [], 'ledgerQueueDepth', sum, (source, emit) => {
    emit({}, source());
  });
  gauge('cb_workflow_instances', 'Workflow instances by status.', ['status'], 'workflowInstances', sum, (source, emit) => {
    for (const entry of source()) emit({ status: labels.status.value(entry.status) }, entry.count);
  });

  new Counter({
    name: 'cb_function_executions_total',
    help: 'Function executions by final status.',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      // The runner keeps the running totals; a counter is set from them by resetting and adding.
      this.reset();
      gather(
        'functionExecutions',
        sum,
        (source, emit) => {
          for (const entry of source()) emit({ status: labels.status.value(entry.status) }, entry.total);
        },
        (seriesLabels, value) => this.inc(seriesLabels, value),
      );
    },
  });

  // Registered last, so a scrape's page already counts the sources that threw during that scrape.
  const sourceErrors = new Counter({
    name: 'cb_metrics_source_errors_total',
    help: 'Scrape-time metric sources that threw, by source.',
    labelNames: ['source'],
    registers: [registry],
  });
}
