import type { ChatRequest } from '../core/chat.js';
import type { Clock } from '../core/clock.js';
import { ErrorCode, GatewayError } from '../core/errors.js';
import { modelAllowed } from '../core/principal.js';
import type { UsageConfig } from '../config/gateway-config.js';
import type { Catalog, Deployment } from '../routing/catalog.js';
import type { RouteOptions } from '../routing/route-options.js';
import { promptCharacters } from '../routing/token-estimate.js';
import { keyBudgetRecord } from '../usage/budget-service.js';
import type { BudgetCandidate, BudgetService, Reservation } from '../usage/budget-service.js';
import type { CostFacts, CostRuleEngine } from '../usage/cost-rule-types.js';
import { defaultWorstCaseOutputTokens, worstCaseCost } from '../usage/cost.js';
import type { RateLimiter, RateTicket } from '../usage/rate-limiter.js';
import type { RequestBatcher } from '../usage/request-batcher.js';
import type { SpendTracker } from '../usage/spend-tracker.js';
import type { CompletionContext } from './completion-service.js';

/** A request let through: possibly rewritten by cost rules, with its rate ticket and budget hold. */
export interface Admitted {
  request: ChatRequest;
  route: RouteOptions;
  ticket: RateTicket | undefined;
  reservation: Reservation | undefined;
  warnings: string[];
  startedAt: number;
}

export interface AdmissionDeps {
  catalog: Catalog;
  budgets: BudgetService;
  limiter: RateLimiter;
  spend: SpendTracker;
  batcher: RequestBatcher;
  rules: CostRuleEngine | undefined;
  usage: UsageConfig;
  clock: Clock;
}

/**
 * What happens before a request is dispatched, in order: the key's model scope (403), cost rules (which
 * may reroute it, prefer a provider, add a rate limit or batch it), the rate limits of the key, the rules
 * and the gateway (429), and the budget reservation of its worst case (402, or candidates left out).
 * Each refusal is reported to `refused` (so the ledger records it) and thrown.
 */
export class RequestAdmission {
  constructor(private readonly deps: AdmissionDeps) {}

  async admit(
    request: ChatRequest,
    context: CompletionContext,
    onRefusal: (request: ChatRequest, startedAt: number, error: unknown) => void,
    characters?: number,
  ): Promise<Admitted> {
    const startedAt = this.deps.clock.now();
    const { principal } = context;
    let route = context.route ?? {};
    const warnings: string[] = [];
    let effective = request;
    const fail = (error: unknown): never => {
      onRefusal(effective, startedAt, error);
      throw error;
    };
    const names = [request.model, ...(route.models ?? []), ...(route.circuit_breaker?.fallback_models ?? [])];
    const forbidden = names.find((name) => !modelAllowed(principal.models, stripSuffix(name)));
    if (forbidden !== undefined)
      fail(
        new GatewayError(
          ErrorCode.permission,
          `The key '${principal.name}' may not use model '${forbidden}' (it may use: ${(principal.models ?? []).join(', ')}).`,
          { status: 403, param: 'model' },
        ),
      );

    const promptChars = characters ?? promptCharacters(request);
    const extraScopes: Parameters<RateLimiter['admit']>[0][number][] = [];
    if (this.deps.rules && this.deps.rules.size > 0) {
      const outcome = this.deps.rules.evaluate(this.facts(request, context, promptChars));
      for (const error of outcome.errors) warnings.push(`cost rule ${error}`);
      if (outcome.model && outcome.model !== request.model) {
        warnings.push(`cost rule '${outcome.matched[0] ?? ''}' routed ${request.model} to ${outcome.model}`);
        effective = { ...request, model: outcome.model };
      }
      if (outcome.preferProviders.length > 0)
        route = {
          ...route,
          circuit_breaker: {
            ...route.circuit_breaker,
            preferred_providers: [...outcome.preferProviders, ...(route.circuit_breaker?.preferred_providers ?? [])],
          },
        };
      extraScopes.push(...outcome.rateLimits);
      if (outcome.batch)
        await this.deps.batcher.wait(outcome.batch.rule, outcome.batch.delayMs, outcome.batch.maxBatchSize, context.signal);
    }

    const scopes = [
      ...(principal.keyId !== null ? [{ scope: `key:${principal.keyId}`, label: `key '${principal.name}'`, limits: principal }] : []),
      ...extraScopes,
      { scope: 'global', label: 'this gateway', limits: this.deps.usage.rateLimits },
    ];
    const limited = scopes.some(({ limits }) => limits.rpm !== undefined || limits.tpm !== undefined || limits.concurrency !== undefined);
    let ticket: RateTicket | undefined;
    if (limited) {
      try {
        ticket = this.deps.limiter.admit(scopes, Math.ceil(promptChars / 4) + (request.max_completion_tokens ?? request.max_tokens ?? 0));
      } catch (error) {
        fail(error);
      }
    }

    let reservation: Reservation | undefined;
    const keyBudget =
      principal.budget && principal.keyId !== null ? keyBudgetRecord(principal.keyId, principal.name, principal.budget) : undefined;
    if (this.deps.budgets.hasBudgets(principal, keyBudget)) {
      try {
        reservation = await this.deps.budgets.reserve(principal, keyBudget, this.budgetCandidates(effective, route, promptChars));
      } catch (error) {
        ticket?.release(0);
        fail(error);
      }
      warnings.push(...(reservation as Reservation).warnings);
      if ((reservation as Reservation).preferCheaper)
        route = { ...route, circuit_breaker: { ...route.circuit_breaker, routing_strategy: 'cost_optimized' } };
    }
    return { request: effective, route, ticket, reservation, warnings, startedAt };
  }

  private budgetCandidates(request: ChatRequest, route: RouteOptions, promptChars: number): BudgetCandidate[] {
    const candidates: BudgetCandidate[] = [];
    for (const name of [request.model, ...(route.models ?? []), ...(route.circuit_breaker?.fallback_models ?? [])]) {
      let deployments: Deployment[];
      try {
        deployments = this.deps.catalog.resolve(stripSuffix(name)).deployments;
      } catch {
        continue; // the router will answer the unknown name with its own 404
      }
      for (const deployment of deployments) {
        const maxOutput =
          request.max_completion_tokens ?? request.max_tokens ?? deployment.model.maxOutputTokens ?? defaultWorstCaseOutputTokens;
        candidates.push({
          provider: deployment.provider,
          model: deployment.model.id,
          outputPrice: deployment.model.pricing.output,
          worstCaseUsd: worstCaseCost(deployment.model.pricing, promptChars, maxOutput),
        });
      }
    }
    return candidates;
  }

  private facts(request: ChatRequest, context: CompletionContext, promptChars: number): CostFacts {
    const today = this.deps.spend.today();
    const metadata = isStringRecord(request['metadata']) ? request['metadata'] : {};
    const complexity = (context.route?.circuit_breaker as { complexity?: unknown } | undefined)?.complexity;
    const tokens = Math.ceil(promptChars / 4);
    return {
      token_count: tokens,
      request_size: tokens,
      model: request.model,
      max_tokens: request.max_completion_tokens ?? request.max_tokens ?? 0,
      stream: request.stream === true,
      environment: context.attribution?.environment ?? this.deps.usage.environment ?? '',
      cost_today: today.total,
      key_cost_today: today.key(context.principal.keyId),
      model_cost_today: today.model(stripSuffix(request.model)),
      user: context.principal.user ?? '',
      team: context.principal.team ?? '',
      project: context.principal.project ?? '',
      key: context.principal.keyId ?? '',
      tags: context.attribution?.tags ?? [],
      task_type: context.route?.circuit_breaker?.task_type ?? '',
      complexity: typeof complexity === 'string' ? complexity : (metadata['complexity'] ?? ''),
      metadata,
    };
  }
}

/** The model name without OpenRouter's `:floor` / `:nitro` suffix. */
export function stripSuffix(model: string): string {
  return model.endsWith(':floor') ? model.slice(0, -6) : model.endsWith(':nitro') ? model.slice(0, -6) : model;
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((entry) => typeof entry === 'string')
  );
}
