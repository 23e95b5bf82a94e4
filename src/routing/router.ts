import type { ChatRequest } from '../core/chat.js';
import type { Clock } from '../core/clock.js';
import { ErrorCode, GatewayError } from '../core/errors.js';
import type { AliasConfig, GatewayConfig, RoutingStrategy } from '../config/gateway-config.js';
import type { Catalog, Deployment } from './catalog.js';
import type { HealthRegistry } from './health-registry.js';
import type { RouteOptions } from './route-options.js';
import { estimatePromptTokens, promptCharacters } from './token-estimate.js';

export interface RankedCandidate {
  deployment: Deployment;
  /** Estimated USD for this request (prompt + expected output), when prices are known. */
  estimatedCostUsd: number | undefined;
  latencyMs: number | undefined;
}

export interface RejectedCandidate {
  provider: string;
  model: string;
  reason: string;
  /** Epoch ms when it may become usable again (cooldowns, open circuits, rate windows). */
  availableAt?: number;
  /** Set when a budget left it out (the request is refused with this code when nothing else remains). */
  code?: typeof ErrorCode.budgetExhausted;
}

export interface RoutePlan {
  strategy: RoutingStrategy;
  candidates: RankedCandidate[];
  rejected: RejectedCandidate[];
  estimate: { promptTokens: number; maxOutputTokens: number };
  warnings: string[];
  /** Whether to try later candidates after a retryable failure. */
  fallbacks: boolean;
}

/** Output tokens assumed for cost estimates when the request sets no limit. */
const expectedOutputTokens = 512;
/** Latency assumed for a deployment never measured, so new ones get tried. */
const unmeasuredLatencyMs = 1_000;

/**
 * Builds the ordered list of deployments a request may go to: resolve every model name it names (its
 * `model`, OpenRouter's `models`, `circuit_breaker.fallback_models`), filter out what cannot serve it
 * (capabilities, context length, price caps, provider filters, open circuits, cooling keys, rate limits
 * — each with its reason), and order the rest by the strategy. Pure decision: nothing is sent.
 */
export class Router {
  constructor(
    private readonly catalog: Catalog,
    private readonly health: HealthRegistry,
    private readonly config: Pick<GatewayConfig, 'routing' | 'aliases' | 'providers'>,
    private readonly clock: Clock,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * `excluded` maps `provider/model` to why a budget keeps it out of this request (spent, or paused as
   * expensive); such candidates are rejected with that reason.
   */
  plan(request: ChatRequest, options: RouteOptions = {}, streaming = false, excluded?: ReadonlyMap<string, string>): RoutePlan {
    const warnings: string[] = [];
    let model = request.model;
    let suffixStrategy: RoutingStrategy | undefined;
    if (model.endsWith(':floor')) [model, suffixStrategy] = [model.slice(0, -6), 'cost_optimized'];
    else if (model.endsWith(':nitro')) [model, suffixStrategy] = [model.slice(0, -6), 'performance_first'];

    const taskType = options.circuit_breaker?.task_type;
    if (taskType !== undefined) {
      // The seed's task types (`code_generation`, `summarization`, `chat`…) pick the virtual model of that name.
      if (this.config.aliases[taskType] === undefined)
        warnings.push(
          `circuit_breaker.task_type '${taskType}' names no virtual model in the config (models: { ${taskType}: { providers, strategy } }), so it did not change the routing`,
        );
      else if (model === 'auto') model = taskType;
      else if (model !== taskType)
        warnings.push(
          `circuit_breaker.task_type '${taskType}' applies to model 'auto'; the request named '${model}', which was routed as asked`,
        );
    }

    const alias: AliasConfig | undefined = this.config.aliases[model];
    const strategy: RoutingStrategy =
      options.circuit_breaker?.routing_strategy ??
      suffixStrategy ??
      sortStrategy(options.provider?.sort) ??
      alias?.strategy ??
      (alias ? 'model_specific' : this.config.routing.strategy);

    const deployments = this.candidatesFor(
      model,
      [...(options.models ?? []), ...(options.circuit_breaker?.fallback_models ?? [])],
      warnings,
    );
    const maxOutputTokens = request.max_completion_tokens ?? request.max_tokens ?? 0;
    const smallestContext = Math.min(...deployments.map((deployment) => deployment.model.contextLength ?? Number.POSITIVE_INFINITY));
    const needsTokens =
      strategy === 'cost_optimized' ||
      options.provider?.max_price !== undefined ||
      options.circuit_breaker?.max_cost_per_1k_tokens !== undefined ||
      alias?.maxCostPer1kTokens !== undefined;
    const characters = promptCharacters(request);
    // Characters bound tokens from above: tokenize only when the bound does not already settle the question.
    const promptTokens =
      needsTokens || characters + maxOutputTokens > smallestContext ? estimatePromptTokens(request) : Math.ceil(characters / 4);
    const outputTokens = maxOutputTokens || expectedOutputTokens;

    const rejected: RejectedCandidate[] = [];
    const kept: RankedCandidate[] = [];
    for (const deployment of deployments) {
      const budgetReason = excluded?.get(`${deployment.provider}/${deployment.model.id}`);
      if (budgetReason !== undefined) {
        rejected.push({ provider: deployment.provider, model: deployment.model.id, reason: budgetReason, code: ErrorCode.budgetExhausted });
        continue;
      }
      const reason = this.rejection(deployment, request, options, alias, promptTokens, maxOutputTokens, outputTokens);
      if (reason) {
        rejected.push({ provider: deployment.provider, model: deployment.model.id, ...reason });
        continue;
      }
      const circuit = this.health.circuit(deployment);
      kept.push({
        deployment,
        estimatedCostUsd: cost(deployment, promptTokens, outputTokens),
        latencyMs: streaming ? (circuit.ttftMs ?? circuit.latencyMs) : circuit.latencyMs,
      });
    }
    const ordered = this.order(kept, strategy);
    const preferred = options.provider?.order ?? options.circuit_breaker?.preferred_providers;
    if (preferred) ordered.sort((left, right) => rank(preferred, left.deployment.provider) - rank(preferred, right.deployment.provider));
    const fallbacks = this.config.routing.fallbacks && options.provider?.allow_fallbacks !== false;
    return {
      strategy,
      candidates: fallbacks ? ordered : ordered.slice(0, 1),
      rejected,
      estimate: { promptTokens, maxOutputTokens: outputTokens },
      warnings,
      fallbacks,
    };
  }

  private candidatesFor(model: string, fallbacks: string[], warnings: string[]): Deployment[] {
    const seen = new Set<string>();
    const result: Deployment[] = [];
    const add = (deployment: Deployment): void => {
      const key = `${deployment.provider}/${deployment.upstreamModel}`;
      if (seen.has(key)) return;
      seen.add(key);
      result.push(deployment);
    };
    if (model === 'auto') {
      for (const deployment of this.catalog.all())
        if (deployment.model.capabilities.streaming && !deployment.model.capabilities.embeddings) add(deployment);
      if (result.length === 0)
        throw new GatewayError(ErrorCode.noProvider, 'No chat model is configured, so `auto` has nothing to choose from.', { status: 503 });
    } else {
      const resolution = this.catalog.resolve(model);
      warnings.push(...resolution.warnings);
      resolution.deployments.forEach(add);
    }
    for (const name of fallbacks) {
      try {
        const resolution = this.catalog.resolve(name);
        warnings.push(...resolution.warnings);
        resolution.deployments.forEach(add);
      } catch {
        warnings.push(`fallback model '${name}' is not served by any configured provider and was skipped`);
      }
    }
    return result;
  }

  private rejection(
    deployment: Deployment,
    request: ChatRequest,
    options: RouteOptions,
    alias: AliasConfig | undefined,
    promptTokens: number,
    maxOutputTokens: number,
    outputTokens: number,
  ): Omit<RejectedCandidate, 'provider' | 'model'> | undefined {
    const { provider, model } = deployment;
    if (options.provider?.only && !options.provider.only.includes(provider)) return { reason: 'provider not in provider.only' };
    if (options.provider?.ignore?.includes(provider)) return { reason: 'provider in provider.ignore' };
    if (deployment.known) {
      const capabilities = model.capabilities;
      if ((request.tools?.length || request.functions?.length) && !capabilities.tools) return { reason: 'model does not support tools' };
      if (request.response_format?.type === 'json_schema' && !capabilities.jsonSchema)
        return { reason: 'model does not support json_schema' };
      if (hasImages(request) && !capabilities.vision) return { reason: 'model does not accept images' };
      if (capabilities.embeddings && !capabilities.streaming) return { reason: 'embedding model' };
      if (model.contextLength !== undefined && promptTokens + maxOutputTokens > model.contextLength) {
        return {
          reason: `prompt of ~${promptTokens} tokens${maxOutputTokens ? ` + ${maxOutputTokens} output` : ''} exceeds the context of ${model.contextLength}`,
        };
      }
    }
    if (options.provider?.require_parameters && deployment.adapter.check) {
      try {
        const dropped = deployment.adapter.check(request, deployment.upstreamModel);
        if (dropped.length > 0) return { reason: `provider.require_parameters: it would drop ${dropped.join('; ')}` };
      } catch (error) {
        return { reason: `provider.require_parameters: ${error instanceof Error ? error.message : String(error)}` };
      }
    }
    const maxPrice = options.provider?.max_price;
    if (maxPrice?.prompt !== undefined && (model.pricing.input === undefined || model.pricing.input > maxPrice.prompt))
      return { reason: `prompt price above provider.max_price.prompt (${maxPrice.prompt}/M)` };
    if (maxPrice?.completion !== undefined && (model.pricing.output === undefined || model.pricing.output > maxPrice.completion)) {
      return { reason: `completion price above provider.max_price.completion (${maxPrice.completion}/M)` };
    }
    const costCap = options.circuit_breaker?.max_cost_per_1k_tokens ?? alias?.maxCostPer1kTokens;
    if (costCap !== undefined) {
      const estimate = cost(deployment, promptTokens, outputTokens);
      const perThousand = estimate === undefined ? undefined : (estimate / (promptTokens + outputTokens)) * 1000;
      if (perThousand === undefined || perThousand > costCap)
        return {
          reason: `cost ${perThousand === undefined ? 'unknown' : `$${perThousand.toFixed(5)}`}/1k tokens above the cap of $${costCap}/1k`,
        };
    }
    const circuit = this.health.circuit(deployment);
    const latencyCap = options.circuit_breaker?.max_latency_ms ?? alias?.maxLatencyMs;
    if (latencyCap !== undefined && circuit.latencyMs !== undefined && circuit.latencyMs > latencyCap)
      return { reason: `recent latency ${Math.round(circuit.latencyMs)} ms above ${latencyCap} ms` };
    if (!circuit.available())
      return { reason: `circuit ${circuit.state} (${circuit.snapshot().lastError ?? 'failing'})`, availableAt: circuit.availableAt() };
    const pool = this.health.keys(provider);
    if (pool.size > 0 && pool.availableAt() > this.clock.now())
      return { reason: 'every key of the provider is cooling down after 429s', availableAt: pool.availableAt() };
    const window = this.health.window(provider);
    if (!window.allows(promptTokens + outputTokens))
      return { reason: 'provider rpm/tpm limit from config reached', availableAt: window.availableAt() };
    return undefined;
  }

  private order(candidates: RankedCandidate[], strategy: RoutingStrategy): RankedCandidate[] {
    const byPosition = new Map(candidates.map((candidate, index) => [candidate, index]));
    const position = (candidate: RankedCandidate): number => byPosition.get(candidate) ?? 0;
    const unhealthy = (candidate: RankedCandidate): number => ((candidate.latencyMs ?? 0) >= this.health.policy.latencyThresholdMs ? 1 : 0);
    switch (strategy) {
      case 'cost_optimized':
        return [...candidates].sort(
          (left, right) =>
            (left.estimatedCostUsd ?? Number.POSITIVE_INFINITY) - (right.estimatedCostUsd ?? Number.POSITIVE_INFINITY) ||
            position(left) - position(right),
        );
      case 'performance_first':
        return [...candidates].sort(
          (left, right) =>
            (left.latencyMs ?? unmeasuredLatencyMs) - (right.latencyMs ?? unmeasuredLatencyMs) || position(left) - position(right),
        );
      case 'load_balanced':
        return this.weightedShuffle(candidates).sort((left, right) => unhealthy(left) - unhealthy(right));
      case 'failover_chain':
      case 'model_specific':
        return [...candidates].sort((left, right) => unhealthy(left) - unhealthy(right) || position(left) - position(right));
    }
  }

  /** Weighted random order (Efraimidis–Spirakis): each provider's `weight` is its share of first places. */
  private weightedShuffle(candidates: RankedCandidate[]): RankedCandidate[] {
    const weights = new Map(this.config.providers.map((provider) => [provider.name, provider.weight]));
    return candidates
      .map((candidate) => ({ candidate, key: Math.pow(this.random(), 1 / (weights.get(candidate.deployment.provider) ?? 1)) }))
      .sort((left, right) => right.key - left.key)
      .map((entry) => entry.candidate);
  }
}

function sortStrategy(sort: 'price' | 'throughput' | 'latency' | undefined): RoutingStrategy | undefined {
  if (sort === 'price') return 'cost_optimized';
  if (sort === 'throughput' || sort === 'latency') return 'performance_first';
  return undefined;
}

function cost(deployment: Deployment, promptTokens: number, outputTokens: number): number | undefined {
  const { input, output } = deployment.model.pricing;
  if (input === undefined || output === undefined) return undefined;
  return (promptTokens * input + outputTokens * output) / 1_000_000;
}

function rank(preferred: string[], provider: string): number {
  const index = preferred.indexOf(provider);
  return index === -1 ? preferred.length : index;
}

function hasImages(request: ChatRequest): boolean {
  return request.messages.some((message) => Array.isArray(message.content) && message.content.some((part) => part.type === 'image_url'));
}
