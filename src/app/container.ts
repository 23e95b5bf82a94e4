import { join } from 'node:path';
import type { GatewayConfig } from '../config/gateway-config.js';
import { systemClock } from '../core/clock.js';
import { ConfigError, ErrorCode } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { createRedactor } from '../core/redact.js';
import type { Redactor } from '../core/redact.js';
import { KeyAuthenticator } from '../auth/key-authenticator.js';
import type { Keyring } from '../auth/secret-box.js';
import { BudgetService } from '../usage/budget-service.js';
import type { BudgetNotifier } from '../usage/budget-service.js';
import { formatUsd } from '../usage/cost.js';
import { loadCostRules } from '../usage/load-cost-rules.js';
import type { CostRuleEngine } from '../usage/cost-rule-types.js';
import { RateLimiter } from '../usage/rate-limiter.js';
import { RequestBatcher } from '../usage/request-batcher.js';
import { SpendTracker } from '../usage/spend-tracker.js';
import { UsageLedger } from '../usage/usage-ledger.js';
import { AgentService } from './agent-service.js';
import { CompletionModelPort } from './completion-model-port.js';
import { PipelineService } from './pipeline-service.js';
import { CompletionService } from './completion-service.js';
import { GatewayKeyAdmin } from './gateway-key-admin.js';
import { ProviderKeyAdmin } from './provider-key-admin.js';
import { UsageReports } from './usage-reports.js';
import { healthMetricSources } from './health-metric-sources.js';
import { GatewayMetrics } from '../usage/gateway-metrics.js';
import type { RequestSample } from '../usage/request-sample.js';
import type { UsageRecord } from '../storage/usage-repository.js';
import type { AttemptRecord } from './chat-service.js';
import { createAdapter } from '../providers/registry.js';
import { Catalog } from '../routing/catalog.js';
import { HealthRegistry } from '../routing/health-registry.js';
import { Router } from '../routing/router.js';
import { loadTokenizer } from '../routing/token-estimate.js';
import type { Store } from '../storage/store.js';
import { ChatService } from './chat-service.js';
import { createJsonLogger } from './json-logger.js';
import { keyringOf, openEventBus, openStore } from './backends.js';
import { version } from './version.js';
import { ModelDiscovery } from './model-discovery.js';
import type { EventBus } from '../streaming/event-bus.js';
import { BubblewrapRunner } from '../functions/bubblewrap-runner.js';
import type { RunnerReadiness } from '../functions/function-runner.js';
import { QuickJsRunner } from '../functions/quickjs-runner.js';
import { FunctionActionExecutor } from './function-action-executor.js';
import { environmentSecrets, FunctionService } from './function-service.js';
import { FunctionToolInvoker } from './function-tool-invoker.js';
import { RuleService } from './rule-service.js';
import { WorkflowService } from './workflow-service.js';
import { topics } from '../streaming/event-bus.js';
import { CompletionStreams } from './completion-streams.js';
import { costEvent } from './gateway-events.js';
import type { CostUpdateEvent, ProviderHealthEvent } from './gateway-events.js';

export { version };

export interface Readiness {
  ready: boolean;
  store: { backend: string; ok: boolean; error?: string };
  /** The event bus (`memory` or `nats`) and whether its transport answers. */
  events: { bus: string; ok: boolean; error?: string };
  providers: { name: string; kind: string; models: number }[];
  discovery: 'done' | 'pending' | 'not_needed';
  /** Function runtimes and whether each can run here (informational: a missing one does not make the server unready). */
  functions: Record<string, RunnerReadiness>;
}

/**
 * The composition root: the one module (with the provider registry) that knows concrete
 * implementations. It builds the store, the adapters, the catalog and the services from the config,
 * and hands the front doors what they need.
 */
export class AppContainer {
  readonly version = version;
  readonly catalog: Catalog;
  readonly chat: ChatService;
  readonly completions: CompletionService;
  readonly discovery: ModelDiscovery;
  readonly health: HealthRegistry;
  readonly router: Router;
  readonly authenticator: KeyAuthenticator;
  readonly gatewayKeys: GatewayKeyAdmin;
  readonly providerKeys: ProviderKeyAdmin;
  readonly budgets: BudgetService;
  readonly reports: UsageReports;
  readonly metrics: GatewayMetrics;
  /** Engine, completion, cost and health events for subscribers (in-process unless NATS is configured). */
  readonly events: EventBus;
  /** The workflow engine's use cases and runtime (started by `create`, stopped by `close`). */
  readonly workflows: WorkflowService;
  /** Named, versioned rules: stored, loaded into the registry `{ ref }` guards resolve through (docs/rules.md). */
  readonly rules: RuleService;
  /** Sandboxed functions: definitions, invocations, triggers on engine events, chains (docs/functions.md). */
  readonly functions: FunctionService;
  /** Function actions for the engine, keyed by firing id. */
  readonly functionActions: FunctionActionExecutor;
  /** Agent definitions, executions, and the engine's executor for `agent` actions (`agents.executor`). */
  readonly agents: AgentService;
  /** The seed's `createWorkflow({ steps | agents })` and definitions with agents on places, compiled onto the engine. */
  readonly pipelines: PipelineService;
  /** Completions started now and read later over the bus (GraphQL `createCompletion(stream: true)`). */
  readonly completionStreams: CompletionStreams;
  /** Budgets as last read, for the metrics scrape (refreshed every 15 s). */
  private budgetSnapshot: { budget: string; limitUsd: number; remainingUsd: number }[] = [];
  private budgetTimer: NodeJS.Timeout | undefined;
  /** Masks every configured secret in text that leaves the process (errors, logs). */
  readonly redact: Redactor;
  private discoveryState: Readiness['discovery'];
  private readonly touchTimer: NodeJS.Timeout;
  private readonly spend: SpendTracker;

  private constructor(
    readonly config: GatewayConfig,
    readonly store: Store,
    readonly logger: Logger,
    readonly clock: Clock,
    redact: Redactor,
    readonly ledger: UsageLedger,
    keyring: Keyring | undefined,
    rules: CostRuleEngine | undefined,
    events: EventBus,
  ) {
    this.redact = redact;
    this.events = events;
    this.rules = new RuleService({ repository: store.rules, events, clock, logger });
    this.workflows = new WorkflowService({
      repository: store.workflows,
      bus: events,
      clock,
      logger,
      rules: this.rules.registry,
      runner: config.workflows ?? {},
    });
    // One JSON line per request at LOG_LEVEL=debug (an access log); built only when it will be written.
    const debugLog = config.logLevel === 'debug';
    const providers = config.providers.map((provider) => ({ config: provider, adapter: createAdapter(provider) }));
    this.catalog = new Catalog(providers, config.aliases);
    this.discovery = new ModelDiscovery(this.catalog, store, logger, clock);
    this.health = new HealthRegistry(config.providers, config.health, clock);
    this.router = new Router(this.catalog, this.health, config, clock);
    this.chat = new ChatService(this.catalog, this.router, this.health, config.routing, clock, () => this.discovery.refreshIfStale());
    this.discoveryState = this.discovery.enabled ? 'pending' : 'not_needed';
    this.authenticator = new KeyAuthenticator(store.gatewayKeys, clock, config.access.adminKey?.reveal());
    this.gatewayKeys = new GatewayKeyAdmin(store.gatewayKeys, clock, () => this.authenticator.invalidate());
    this.providerKeys = new ProviderKeyAdmin(
      store.providerKeys,
      keyring,
      new Set(config.providers.map((provider) => provider.name)),
      this.health,
      redact,
      clock,
      logger,
    );
    this.budgets = new BudgetService(
      store.budgets,
      config.usage,
      clock,
      logger,
      budgetNotifier(config.usage.notifications.webhookUrl, logger, (event) => this.publish(topics.costs, event)),
    );
    this.reports = new UsageReports(store.usage, clock);
    this.functions = new FunctionService({
      repository: store.functions,
      runners: [new QuickJsRunner(), new BubblewrapRunner()],
      events,
      clock,
      logger,
      secrets: environmentSecrets(process.env),
      redact,
    });
    this.functionActions = new FunctionActionExecutor(this.functions);
    this.metrics = new GatewayMetrics({ providers: config.providers.map((provider) => provider.name) });
    this.spend = new SpendTracker(clock);
    this.completions = new CompletionService({
      chat: this.chat,
      catalog: this.catalog,
      budgets: this.budgets,
      limiter: new RateLimiter(clock),
      ledger,
      spend: this.spend,
      batcher: new RequestBatcher(),
      rules,
      usage: config.usage,
      clock,
      logger,
      onFinished: (record, extra) => {
        this.metrics.requestFinished(requestSample(record, extra));
        if (debugLog) logger.debug('request finished', accessLogFields(record));
        if (events.listened?.(topics.costs) === false) return;
        const costs = costEventOf(record);
        if (costs) this.publish(topics.costs, costs);
      },
    });
    this.agents = new AgentService({
      repository: store.agents,
      models: new CompletionModelPort(this.completions),
      events,
      clock,
      logger,
      tools: new FunctionToolInvoker(this.functions),
    });
    // Agents are the engine's `agent` actions: run by the outbox worker, checked when a workflow is published.
    this.workflows.actions.register('agent', this.agents.executor);
    this.workflows.catalog.registerActionCheck('agent', (action) => this.agents.checkAction(action));
    // Functions are the engine's `function` actions, keyed by firing id (a retried firing never runs twice).
    this.workflows.actions.register('function', this.functionActions);
    this.workflows.catalog.registerActionCheck('function', (action) => this.functions.checkAction(action));
    this.pipelines = new PipelineService(this.agents, this.workflows);
    this.completionStreams = new CompletionStreams(this.completions, events, logger, redact, { subscribeTimeoutMs: 30_000 });
    this.health.onCircuitChange(({ deployment, from, to, snapshot }) =>
      this.publish<ProviderHealthEvent>(topics.providerHealth, {
        provider: deployment.provider,
        model: deployment.model.id,
        upstreamModel: deployment.upstreamModel,
        from: from.toUpperCase(),
        to: to.toUpperCase(),
        at: new Date(clock.now()).toISOString(),
        errorRate: snapshot.errorRate,
        consecutiveFailures: snapshot.consecutiveFailures,
        openUntil: snapshot.openUntil > 0 ? new Date(snapshot.openUntil).toISOString() : null,
        lastError: snapshot.lastError ? redact(snapshot.lastError) : null,
      }),
    );
    this.metrics.setSources({
      ...healthMetricSources(this.health),
      ledgerQueueDepth: () => ledger.queueDepth,
      budgets: () => this.budgetSnapshot,
    });
    this.touchTimer = setInterval(() => {
      const used = this.authenticator.takeUsed();
      if (used.length > 0) void store.gatewayKeys.touch(used, clock.now()).catch(() => undefined);
    }, 30_000);
    this.touchTimer.unref();
    // Ranking by cost counts every prompt: load the tokenizer now rather than on the first request.
    if (
      config.routing.strategy === 'cost_optimized' ||
      Object.values(config.aliases).some((alias) => alias.strategy === 'cost_optimized' || alias.maxCostPer1kTokens !== undefined)
    ) {
      loadTokenizer();
    }
  }

  static async create(
    config: GatewayConfig,
    options: {
      logger?: Logger;
      clock?: Clock;
      store?: Store;
      events?: EventBus;
      /** Runs before the workflow runtime starts (e.g. to register action executors). */
      beforeStart?: (container: AppContainer) => void | Promise<void>;
    } = {},
  ): Promise<AppContainer> {
    const redact = createRedactor(configuredSecrets(config));
    const logger = options.logger ?? createJsonLogger(config.logLevel, redact);
    const clock = options.clock ?? systemClock;
    const keyring = keyringOf(config);
    const store = options.store ?? (await openStore(config, { clock, logger }));
    const ledger = await UsageLedger.open(store.usage, logger, { journalDir: join(config.dataDir, 'ledger') });
    const compiledRules = await loadCostRules(config.usage.costRules);
    if ('issues' in compiledRules) {
      await ledger.close();
      if (!options.store) await store.close();
      throw new ConfigError(`The cost rules are invalid:\n- ${compiledRules.issues.join('\n- ')}`, compiledRules.issues);
    }
    for (const warning of compiledRules.warnings) logger.warn(warning);
    let events: EventBus;
    try {
      events = options.events ?? (await openEventBus(config, clock, logger));
    } catch (error) {
      await ledger.close();
      if (!options.store) await store.close();
      throw error;
    }
    const container = new AppContainer(config, store, logger, clock, redact, ledger, keyring, compiledRules.engine, events);
    await container.budgets.init();
    await container.agents.init();
    await container.rules.start();
    await container.refreshBudgetSnapshot();
    container.budgetTimer = setInterval(() => void container.refreshBudgetSnapshot(), 15_000);
    container.budgetTimer.unref();
    await container.spend.seed(store.usage);
    await container.providerKeys.start();
    await container.functions.start();
    if (container.discovery.enabled) {
      await container.discovery.run();
      container.discoveryState = 'done';
    }
    await options.beforeStart?.(container);
    await container.workflows.start();
    return container;
  }

  async readiness(): Promise<Readiness> {
    let storeState: Readiness['store'] = { backend: this.store.backend, ok: true };
    try {
      await this.store.ping();
    } catch (error) {
      storeState = { backend: this.store.backend, ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    let eventsState: Readiness['events'] = { bus: this.events.kind, ok: true };
    try {
      await this.events.ping?.();
    } catch (error) {
      eventsState = { bus: this.events.kind, ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    const counts = new Map<string, number>();
    for (const deployment of this.catalog.all()) counts.set(deployment.provider, (counts.get(deployment.provider) ?? 0) + 1);
    return {
      ready: storeState.ok && eventsState.ok && this.discoveryState !== 'pending',
      store: storeState,
      events: eventsState,
      providers: this.catalog.adapters().map(({ name, adapter }) => ({ name, kind: adapter.kind, models: counts.get(name) ?? 0 })),
      discovery: this.discoveryState,
      functions: await this.functions.readiness(),
    };
  }

  /** Publishes on the bus without waiting; a failure is logged (subscribers miss one event, requests go on). */
  private publish<T>(topic: string, payload: T): void {
    this.events
      .publish(topic, payload)
      .catch((error: unknown) => this.logger.warn('event bus: publish failed', { topic, error: String(error) }));
  }

  private async refreshBudgetSnapshot(): Promise<void> {
    try {
      this.budgetSnapshot = (await this.budgets.status()).map((status) => ({
        budget: status.budget.name,
        limitUsd: status.budget.limitUsd,
        remainingUsd: status.remainingUsd,
      }));
    } catch (error) {
      this.logger.warn('cannot read budgets for metrics', { error: String(error) });
    }
  }

  /** Graceful end: flush the ledger and key touches, close pools and the store. */
  async close(): Promise<void> {
    clearInterval(this.touchTimer);
    clearInterval(this.budgetTimer);
    this.providerKeys.stop();
    this.rules.stop();
    await this.workflows
      .stop()
      .catch((error: unknown) => this.logger.error('workflow runner did not stop cleanly', { error: String(error) }));
    await this.ledger
      .close()
      .catch((error: unknown) => this.logger.error('usage ledger: final flush failed; records stay journaled', { error: String(error) }));
    const used = this.authenticator.takeUsed();
    if (used.length > 0) await this.store.gatewayKeys.touch(used, this.clock.now()).catch(() => undefined);
    await Promise.allSettled(this.catalog.adapters().map(({ adapter }) => adapter.close()));
    await this.functions.stop().catch((error: unknown) => this.logger.warn('functions did not stop cleanly', { error: String(error) }));
    await this.events.close().catch(() => undefined);
    await this.store.close();
  }
}

function budgetNotifier(webhookUrl: string | undefined, logger: Logger, publish: (event: CostUpdateEvent) => void): BudgetNotifier {
  return async ({ budget, threshold, spentUsd, resetsAt }) => {
    const text = `Circuit Breaker: budget '${budget.name}' passed ${Math.round(threshold * 100)} % (${formatUsd(spentUsd)} of ${formatUsd(budget.limitUsd)}, ${budget.period}; resets ${new Date(resetsAt).toISOString()}).`;
    logger.warn('budget threshold reached', { budget: budget.name, threshold, spentUsd, limitUsd: budget.limitUsd });
    publish(
      costEvent({
        type: threshold >= 1 ? 'BUDGET_EXHAUSTED' : 'BUDGET_WARNING',
        at: new Date().toISOString(),
        keyId: budget.scope.type === 'key' ? budget.scope.value : null,
        budget: budget.name,
        threshold,
        spentUsd,
        limitUsd: budget.limitUsd,
        message: text,
      }),
    );
    if (!webhookUrl) return;
    const response = await fetch(webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        text,
        event: 'budget.threshold',
        budget: budget.name,
        threshold,
        spent_usd: spentUsd,
        limit_usd: budget.limitUsd,
        period: budget.period,
        resets_at: new Date(resetsAt).toISOString(),
      }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`webhook answered ${response.status}`);
  };
}

function configuredSecrets(config: GatewayConfig): string[] {
  const secrets = config.providers.flatMap((provider) => provider.apiKeys.map((key) => key.reveal()));
  if (config.access.adminKey) secrets.push(config.access.adminKey.reveal());
  if (config.access.masterKey) secrets.push(config.access.masterKey.reveal());
  return secrets;
}

/** The `costUpdates` event of a finished request: its cost, or the refusal of a spent budget. */
function costEventOf(record: UsageRecord): CostUpdateEvent | undefined {
  const at = new Date(record.at + record.latencyMs).toISOString();
  const common = {
    at,
    requestId: record.requestId,
    keyId: record.keyId,
    provider: record.provider,
    model: record.model ?? record.requestedModel,
  };
  if (record.errorCode === ErrorCode.budgetExhausted)
    return costEvent({
      ...common,
      type: 'BUDGET_EXHAUSTED',
      costUsd: 0,
      message: `A request for ${record.requestedModel} was refused: a budget is exhausted.`,
    });
  if (record.status !== 'ok' && !record.costUsd) return undefined;
  return costEvent({
    ...common,
    type: 'COST_INCURRED',
    costUsd: record.costUsd,
    promptTokens: record.promptTokens,
    completionTokens: record.completionTokens,
    message:
      record.costUsd === null
        ? `${record.model ?? record.requestedModel}: cost unknown (no price configured)`
        : `${record.model ?? record.requestedModel}: ${formatUsd(record.costUsd)}`,
  });
}

/** A ledger record as the metrics see it. */
function requestSample(record: UsageRecord, extra: { overheadMs: number; attempts: readonly AttemptRecord[] }): RequestSample {
  const sample: RequestSample = {
    endpoint: record.endpoint,
    status: record.httpStatus,
    stream: record.stream,
    durationMs: record.latencyMs,
    overheadMs: extra.overheadMs,
    attempts: extra.attempts.map((attempt) => ({
      provider: attempt.provider,
      outcome: attempt.outcome === 'ok' ? 'ok' : (attempt.outcome.split(' ')[0] ?? 'other'),
    })),
    model: record.model ?? record.requestedModel,
  };
  if (record.provider !== null) sample.provider = record.provider;
  if (record.errorCode !== null) sample.code = record.errorCode;
  if (record.ttftMs !== null) sample.ttftMs = record.ttftMs;
  if (record.status === 'ok' || record.promptTokens > 0)
    sample.usage = {
      prompt: record.promptTokens,
      completion: record.completionTokens,
      cached: record.cachedTokens,
      reasoning: record.reasoningTokens,
    };
  if (record.costUsd !== null) sample.costUsd = record.costUsd;
  return sample;
}

/** The access-log line of a request: ids, who, where, outcome, tokens, cost (never a key). */
function accessLogFields(record: UsageRecord): Record<string, unknown> {
  return {
    requestId: record.requestId,
    endpoint: record.endpoint,
    keyId: record.keyId,
    user: record.userId,
    model: record.requestedModel,
    provider: record.provider,
    servedModel: record.model,
    status: record.httpStatus,
    code: record.errorCode,
    stream: record.stream,
    attempts: record.attempts,
    latencyMs: Math.round(record.latencyMs),
    ttftMs: record.ttftMs === null ? null : Math.round(record.ttftMs),
    promptTokens: record.promptTokens,
    completionTokens: record.completionTokens,
    costUsd: record.costUsd,
  };
}
