import { randomUUID } from 'node:crypto';
import type { ChatRequest } from '../core/chat.js';
import type { Clock } from '../core/clock.js';
import type { EmbeddingRequest } from '../core/embeddings.js';
import { ErrorCode, GatewayError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Attribution, Principal } from '../core/principal.js';
import { isContentPart } from '../core/stream-part.js';
import type { StreamPart } from '../core/stream-part.js';
import type { Usage } from '../core/usage.js';
import type { UsageConfig } from '../config/gateway-config.js';
import type { EmbeddingResult, ChatResult } from '../providers/spec/provider-adapter.js';
import type { Catalog, Deployment } from '../routing/catalog.js';
import type { RouteOptions } from '../routing/route-options.js';
import type { RoutePlan } from '../routing/router.js';
import type { UsageRecord } from '../storage/usage-repository.js';
import type { BudgetService } from '../usage/budget-service.js';
import type { CostRuleEngine } from '../usage/cost-rule-types.js';
import { costOf } from '../usage/cost.js';
import type { RateLimiter } from '../usage/rate-limiter.js';
import type { RequestBatcher } from '../usage/request-batcher.js';
import type { SpendTracker } from '../usage/spend-tracker.js';
import type { UsageLedger } from '../usage/usage-ledger.js';
import { dispatchOf } from './chat-service.js';
import { RequestAdmission } from './request-admission.js';
import type { Admitted } from './request-admission.js';
import type { AttemptRecord, ChatService, DispatchInfo, StreamDispatch } from './chat-service.js';

/** Who is asking, through which door, for what: everything the metering needs beyond the request. */
export interface CompletionContext {
  requestId: string;
  principal: Principal;
  attribution?: Attribution;
  signal: AbortSignal;
  route?: RouteOptions;
  /** `chat`, `embeddings`, `messages`, `graphql`, `stream`, `agent`… (a ledger column and a metrics label). */
  endpoint: string;
}

/** What the metering adds to an answer: its cost and the headers to send (`x-ratelimit-*`). */
export interface Metering {
  costUsd: number | undefined;
  headers: Record<string, string>;
}

/** Called once per finished request (metrics): the ledger record, the gateway's own time, each upstream attempt. */
export type FinishedListener = (record: UsageRecord, extra: { overheadMs: number; attempts: readonly AttemptRecord[] }) => void;

export interface CompletionServiceDeps {
  chat: ChatService;
  catalog: Catalog;
  budgets: BudgetService;
  limiter: RateLimiter;
  ledger: UsageLedger;
  spend: SpendTracker;
  batcher: RequestBatcher;
  rules: CostRuleEngine | undefined;
  usage: UsageConfig;
  clock: Clock;
  logger: Logger;
  onFinished?: FinishedListener;
}

const noHeaders: Record<string, string> = {};

/**
 * The completion use case every front door shares (REST, the Anthropic route, GraphQL, WebSocket, agents):
 * the key's model scope, cost rules, rate limits and budget reservation before dispatch; the router and
 * failover of `ChatService` for the dispatch; then the ledger record (journaled before the answer is
 * finished, so a crash cannot lose it), the budget settlement, the rate-limit booking and metrics.
 * Failures are recorded too, with their error code.
 */
export class CompletionService {
  private readonly admission: RequestAdmission;

  constructor(private readonly deps: CompletionServiceDeps) {
    this.admission = new RequestAdmission(deps);
  }

  async complete(request: ChatRequest, context: CompletionContext): Promise<DispatchInfo & { result: ChatResult; metering: Metering }> {
    const admitted = await this.admit(request, context);
    try {
      const dispatched = await this.deps.chat.complete(admitted.request, this.callOptions(context, admitted));
      dispatched.warnings.push(...admitted.warnings);
      const costUsd = this.finish(admitted, context, dispatched, dispatched.result.usage, 'ok', 200, undefined, undefined);
      return { ...dispatched, metering: { costUsd, headers: admitted.ticket?.headers ?? noHeaders } };
    } catch (error) {
      throw this.failed(admitted, context, error);
    }
  }

  /** A stream metered as it is read: the record is written when it ends, however it ends. */
  async stream(
    request: ChatRequest,
    context: CompletionContext,
  ): Promise<{ dispatch: StreamDispatch; stream: AsyncIterable<StreamPart>; metering: Metering }> {
    const admitted = await this.admit(request, context);
    let opened: Awaited<ReturnType<ChatService['stream']>>;
    try {
      opened = await this.deps.chat.stream(admitted.request, this.callOptions(context, admitted));
    } catch (error) {
      throw this.failed(admitted, context, error);
    }
    opened.dispatch.warnings.push(...admitted.warnings);
    const metering: Metering = { costUsd: undefined, headers: admitted.ticket?.headers ?? noHeaders };
    return { dispatch: opened.dispatch, stream: this.metered(opened.stream, opened.dispatch, admitted, context, metering), metering };
  }

  async embed(
    request: EmbeddingRequest,
    context: CompletionContext,
  ): Promise<DispatchInfo & { result: EmbeddingResult; metering: Metering }> {
    const chatLike = { model: request.model, messages: [], stream: false } as unknown as ChatRequest;
    const admitted = await this.admit(chatLike, context, embeddingCharacters(request));
    try {
      const dispatched = await this.deps.chat.embed(
        { ...request, model: admitted.request.model },
        { requestId: context.requestId, signal: context.signal },
      );
      dispatched.warnings.push(...admitted.warnings);
      const costUsd = this.finish(admitted, context, dispatched, dispatched.result.usage, 'ok', 200, undefined, undefined);
      return { ...dispatched, metering: { costUsd, headers: admitted.ticket?.headers ?? noHeaders } };
    } catch (error) {
      throw this.failed(admitted, context, error);
    }
  }

  /** The routing plan (`POST /api/v1/route/explain`), with the same budget exclusions a real request would get (nothing is held). */
  async explain(request: ChatRequest, route: RouteOptions): Promise<RoutePlan> {
    return this.deps.chat.explain(request, route);
  }

  private callOptions(context: CompletionContext, admitted: Admitted) {
    return {
      requestId: context.requestId,
      signal: context.signal,
      route: admitted.route,
      ...(admitted.reservation && admitted.reservation.excluded.size > 0 ? { excluded: admitted.reservation.excluded } : {}),
    };
  }

  private admit(request: ChatRequest, context: CompletionContext, characters?: number): Promise<Admitted> {
    return this.admission.admit(
      request,
      context,
      (refused: ChatRequest, startedAt: number, error: unknown) => this.recordRefusal(refused, context, startedAt, error),
      characters,
    );
  }

  /**
   * The stream as the caller reads it, metered: time to first content, the usage part priced, and the
   * record written when the stream ends, however it ends (done, failed, or left by the caller). A plain
   * iterator rather than an async generator: it adds one promise per part to the chain, not a
   * generator's queue and awaits (streams pass every part through several layers).
   */
  private metered(
    stream: AsyncIterable<StreamPart>,
    dispatch: StreamDispatch,
    admitted: Admitted,
    context: CompletionContext,
    metering: Metering,
  ): AsyncIterableIterator<StreamPart> {
    const inner = stream[Symbol.asyncIterator]();
    let usage: Usage | undefined;
    let ttftMs: number | undefined;
    let ended = false;
    // Runs before the caller writes the stream's last bytes: the record is journaled before the client sees the end.
    const end = (outcome: 'ok' | 'error' | 'client_closed', failure?: unknown): void => {
      if (ended) return;
      ended = true;
      if (outcome === 'ok') {
        this.finish(admitted, context, dispatch, usage, 'ok', 200, undefined, ttftMs);
        return;
      }
      const status = failure instanceof GatewayError ? failure.status : outcome === 'client_closed' ? 499 : 500;
      const code = failure instanceof GatewayError ? failure.code : outcome === 'client_closed' ? 'client_closed' : ErrorCode.internal;
      this.finish(admitted, context, dispatch, usage, outcome, status, code, ttftMs);
    };
    const observe = (part: StreamPart): StreamPart => {
      if (ttftMs === undefined && isContentPart(part)) ttftMs = this.deps.clock.now() - admitted.startedAt;
      if (part.type !== 'usage') return part;
      usage = part.usage;
      const pricing = dispatch.deployment?.model.pricing;
      const costUsd = pricing ? costOf(pricing, part.usage) : undefined;
      metering.costUsd = costUsd;
      return costUsd === undefined ? part : { ...part, costUsd };
    };
    const iterator: AsyncIterableIterator<StreamPart> = {
      [Symbol.asyncIterator]: () => iterator,
      next: async () => {
        if (ended) return { done: true, value: undefined };
        let result: IteratorResult<StreamPart>;
        try {
          result = await inner.next();
        } catch (error) {
          end(context.signal.aborted ? 'client_closed' : 'error', error);
          throw error;
        }
        if (result.done) {
          end('ok');
          return result;
        }
        return { done: false, value: observe(result.value) };
      },
      return: async () => {
        // The caller left before the end (a client that went away, or a writer that failed).
        end('client_closed');
        await inner.return?.();
        return { done: true, value: undefined };
      },
    };
    return iterator;
  }

  /** Writes the ledger record, settles the budget, books tokens; returns the cost. Never throws. */
  private finish(
    admitted: Admitted,
    context: CompletionContext,
    dispatch: Omit<StreamDispatch, 'deployment'> & { deployment: Deployment | undefined },
    usage: Usage | undefined,
    status: UsageRecord['status'],
    httpStatus: number,
    errorCode: string | undefined,
    ttftMs: number | undefined,
  ): number | undefined {
    const deployment = dispatch.deployment;
    const costUsd = deployment && usage ? costOf(deployment.model.pricing, usage) : status === 'ok' ? undefined : 0;
    const now = this.deps.clock.now();
    const record = this.record(admitted.request, context, admitted.startedAt, now, {
      deployment,
      usage,
      costUsd: costUsd ?? null,
      status,
      httpStatus,
      errorCode: errorCode ?? null,
      attempts: dispatch.attempts,
      ttftMs: ttftMs ?? null,
    });
    try {
      this.deps.ledger.record(record);
    } catch (error) {
      this.deps.logger.error('usage ledger: cannot journal a record', { requestId: context.requestId, error: String(error) });
    }
    const tokens = (usage?.promptTokens ?? 0) + (usage?.completionTokens ?? 0);
    admitted.ticket?.release(tokens);
    if (costUsd) this.deps.spend.add(costUsd, context.principal.keyId, deployment?.model.id ?? null);
    if (admitted.reservation) {
      const served = deployment ? { provider: deployment.provider, model: deployment.model.id } : undefined;
      admitted.reservation
        .settle(served, costUsd ?? 0)
        .catch((error: unknown) =>
          this.deps.logger.error('budget settlement failed', { requestId: context.requestId, error: String(error) }),
        );
    }
    // A stream's own time is what it took to reach its first content, less the wait on upstreams.
    const ownMs = (record.stream && ttftMs !== undefined ? ttftMs : now - admitted.startedAt) - dispatch.upstreamMs;
    this.deps.onFinished?.(record, { overheadMs: Math.max(0, ownMs), attempts: dispatch.attemptLog });
    return costUsd;
  }

  private failed(admitted: Admitted, context: CompletionContext, error: unknown): unknown {
    // ChatService remembers what it tried on the error it throws: the record names the last deployment and the attempts.
    const tried = dispatchOf(error) ?? { deployment: undefined, attempts: 0, attemptLog: [], warnings: [], upstreamMs: 0 };
    const status = error instanceof GatewayError ? error.status : 500;
    const code = error instanceof GatewayError ? error.code : ErrorCode.internal;
    const outcome = context.signal.aborted ? 'client_closed' : 'error';
    this.finish(admitted, context, tried, undefined, outcome, status, code, undefined);
    if (error instanceof GatewayError && admitted.ticket) Object.assign(error.headers, admitted.ticket.headers, error.headers);
    return error;
  }

  /** A request refused before dispatch (scope, rate limit, budget): recorded, nothing to settle. */
  private recordRefusal(request: ChatRequest, context: CompletionContext, startedAt: number, error: unknown): void {
    const record = this.record(request, context, startedAt, this.deps.clock.now(), {
      deployment: undefined,
      usage: undefined,
      costUsd: 0,
      status: 'error',
      httpStatus: error instanceof GatewayError ? error.status : 500,
      errorCode: error instanceof GatewayError ? error.code : ErrorCode.internal,
      attempts: 0,
      ttftMs: null,
    });
    try {
      this.deps.ledger.record(record);
    } catch (journalError) {
      this.deps.logger.error('usage ledger: cannot journal a record', { requestId: context.requestId, error: String(journalError) });
    }
    this.deps.onFinished?.(record, { overheadMs: record.latencyMs, attempts: [] });
  }

  private record(
    request: ChatRequest,
    context: CompletionContext,
    startedAt: number,
    now: number,
    outcome: {
      deployment: Deployment | undefined;
      usage: Usage | undefined;
      costUsd: number | null;
      status: UsageRecord['status'];
      httpStatus: number;
      errorCode: string | null;
      attempts: number;
      ttftMs: number | null;
    },
  ): UsageRecord {
    const { principal, attribution } = context;
    const { deployment, usage } = outcome;
    return {
      id: randomUUID(),
      at: startedAt,
      requestId: context.requestId,
      endpoint: context.endpoint,
      keyId: principal.keyId,
      userId: principal.user,
      teamId: principal.team,
      projectId: principal.project,
      workflowId: attribution?.workflowId ?? null,
      instanceId: attribution?.instanceId ?? null,
      transitionId: attribution?.transitionId ?? null,
      agentId: attribution?.agentId ?? null,
      provider: deployment?.provider ?? null,
      requestedModel: request.model,
      model: deployment?.model.id ?? null,
      deployment: deployment?.upstreamModel ?? null,
      promptTokens: usage?.promptTokens ?? 0,
      completionTokens: usage?.completionTokens ?? 0,
      cachedTokens: usage?.cachedTokens ?? 0,
      cacheWriteTokens: usage?.cacheWriteTokens ?? 0,
      reasoningTokens: usage?.reasoningTokens ?? 0,
      costUsd: outcome.costUsd,
      latencyMs: now - startedAt,
      ttftMs: outcome.ttftMs,
      status: outcome.status,
      httpStatus: outcome.httpStatus,
      errorCode: outcome.errorCode,
      attempts: outcome.attempts,
      stream: request.stream === true,
      tags: attribution?.tags ?? [],
    };
  }
}

function embeddingCharacters(request: EmbeddingRequest): number {
  const input = request.input;
  if (typeof input === 'string') return input.length;
  let total = 0;
  for (const item of input) total += typeof item === 'string' ? item.length : Array.isArray(item) ? item.length : 1;
  return total;
}
