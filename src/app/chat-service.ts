import type { ChatRequest } from '../core/chat.js';
import type { Clock } from '../core/clock.js';
import type { EmbeddingRequest } from '../core/embeddings.js';
import { ErrorCode, GatewayError, invalidRequest, ProviderError } from '../core/errors.js';
import { isContentPart } from '../core/stream-part.js';
import type { StreamPart } from '../core/stream-part.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { CallContext, ChatResult, EmbeddingResult, ProviderStream } from '../providers/spec/provider-adapter.js';
import type { Catalog, Deployment, Resolution } from '../routing/catalog.js';
import type { HealthRegistry } from '../routing/health-registry.js';
import type { RouteOptions } from '../routing/route-options.js';
import type { RoutePlan, Router } from '../routing/router.js';

export interface CallOptions {
  requestId: string;
  signal: AbortSignal;
  route?: RouteOptions;
  /** `provider/model` → why a budget keeps that deployment out of this request. */
  excluded?: ReadonlyMap<string, string>;
}

/** One upstream attempt and how it ended, for `x-cb-attempts` and the explain output. */
export interface AttemptRecord {
  provider: string;
  model: string;
  outcome: 'ok' | string;
}

/** Where a request went and what the gateway noticed on the way (sent as `x-cb-*` headers). */
export interface DispatchInfo {
  deployment: Deployment;
  attempts: number;
  attemptLog: AttemptRecord[];
  warnings: string[];
  /** Milliseconds spent waiting on upstreams (answers, or until a stream's first content). */
  upstreamMs: number;
}

/** A stream's dispatch, filled in as the stream finds its deployment (it fails over until the first content). */
export interface StreamDispatch extends Omit<DispatchInfo, 'deployment'> {
  deployment: Deployment | undefined;
}

type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });

/**
 * The chat and embedding use cases every front door shares. The router plans (candidates in order,
 * with reasons for those left out); this executes: one attempt per candidate with a key from its pool,
 * on to the next on a retryable failure (429, 5xx, timeouts, resets, malformed answers), to a
 * longer-context one on a context-length error, never past a client error; then, when every candidate
 * failed or is cooling down, bounded exponential backoff with jitter and another round, and finally a
 * 503 with `Retry-After`. Streams fail over the same way until their first content part.
 */
export class ChatService {
  constructor(
    private readonly catalog: Catalog,
    private readonly router: Router,
    private readonly health: HealthRegistry,
    private readonly routing: GatewayConfig['routing'],
    private readonly clock: Clock,
    /** Called when a model name is unknown; resolves true if it refreshed the catalog (then planning is retried). */
    private readonly refreshCatalog: () => Promise<boolean> = async () => false,
    private readonly sleep: Sleep = realSleep,
    /** The jitter source of the backoff (0 ≤ x < 1), injectable so tests are deterministic. */
    private readonly random: () => number = Math.random,
  ) {}

  /** The plan for a request, without sending anything (`POST /api/v1/route/explain`). */
  async explain(request: ChatRequest, route: RouteOptions = {}, excluded?: ReadonlyMap<string, string>): Promise<RoutePlan> {
    return this.plan(request, route, request.stream === true, excluded);
  }

  async complete(request: ChatRequest, options: CallOptions): Promise<DispatchInfo & { result: ChatResult }> {
    const plan = await this.plan(request, options.route ?? {}, false, options.excluded);
    const dispatch: StreamDispatch = { deployment: undefined, attempts: 0, attemptLog: [], warnings: [...plan.warnings], upstreamMs: 0 };
    const result = await this.execute(request, options, plan, dispatch, false, (deployment, context) =>
      deployment.adapter.chat({ ...context, request }),
    ).catch((error: unknown) => {
      throw remember(error, dispatch);
    });
    dispatch.warnings.push(...result.warnings);
    return { ...(dispatch as DispatchInfo), result };
  }

  /**
   * A stream that finds its deployment lazily, while it is read: the caller can start writing (keep-alive
   * comments) at once; `dispatch` fills in as attempts happen. Model and plan errors throw here, before.
   */
  async stream(request: ChatRequest, options: CallOptions): Promise<{ dispatch: StreamDispatch; stream: AsyncIterable<StreamPart> }> {
    const plan = await this.plan(request, options.route ?? {}, true, options.excluded);
    const dispatch: StreamDispatch = { deployment: undefined, attempts: 0, attemptLog: [], warnings: [...plan.warnings], upstreamMs: 0 };
    return { dispatch, stream: this.streamParts(request, options, plan, dispatch) };
  }

  /**
   * The parts of a stream that fails over until its first content: the first `next()` runs the attempts,
   * later ones pass the chosen upstream's parts on. A plain iterator rather than an async generator (one
   * promise per part, not a generator's queue and awaits: every part goes through several layers).
   */
  private streamParts(
    request: ChatRequest,
    options: CallOptions,
    plan: RoutePlan,
    dispatch: StreamDispatch,
  ): AsyncIterableIterator<StreamPart> {
    type Opened = Awaited<ReturnType<typeof peekFirstContent>> & { deployment: Deployment; elapsedMs: number };
    let opened: Opened | undefined;
    let circuit: ReturnType<HealthRegistry['circuit']> | undefined;
    let buffered = 0;
    let verdict = false;
    let closed = false;
    const open = async (): Promise<Opened> => {
      const result = await this.execute(request, options, plan, dispatch, true, async (deployment, context) => {
        const upstream = await deployment.adapter.stream({ ...context, request });
        return peekFirstContent(upstream);
      }).catch((error: unknown) => {
        throw remember(error, dispatch);
      });
      dispatch.warnings.push(...result.upstream.warnings);
      // A stream's verdict comes at its end: one that fails after its first content must not count as a success.
      circuit = this.health.circuit(result.deployment);
      return result;
    };
    /** Once, however the stream ends: a breaker without a verdict is released, and the upstream iterator closed. */
    const close = async (): Promise<void> => {
      if (closed || !opened) return;
      closed = true;
      if (!verdict) circuit?.cancel();
      await opened.iterator.return?.();
    };
    const iterator: AsyncIterableIterator<StreamPart> = {
      [Symbol.asyncIterator]: () => iterator,
      next: async () => {
        if (closed) return { done: true, value: undefined };
        if (!opened) {
          try {
            opened = await open();
          } catch (error) {
            closed = true; // every attempt failed: the error is the stream's end
            throw error;
          }
        }
        const held = opened.buffered[buffered];
        if (held !== undefined) {
          buffered++;
          return { done: false, value: held };
        }
        let result: IteratorResult<StreamPart>;
        try {
          result = await opened.iterator.next();
        } catch (error) {
          // After the commit point there is no failover: the failure still counts against the deployment's health.
          if (!options.signal.aborted && error instanceof GatewayError && error.isRetryable) {
            verdict = true;
            circuit?.failure(`${error.code} mid-stream`);
          }
          await close();
          throw error;
        }
        if (result.done) {
          verdict = true;
          circuit?.success(opened.elapsedMs, opened.elapsedMs);
          await close();
        }
        return result;
      },
      return: async () => {
        await close();
        closed = true;
        return { done: true, value: undefined };
      },
    };
    return iterator;
  }

  /** Embeddings: every deployment of the model that can embed, in order, with the same failover rules as chat (one round). */
  async embed(request: EmbeddingRequest, options: CallOptions): Promise<DispatchInfo & { result: EmbeddingResult }> {
    const resolution = await this.resolve(request.model);
    const candidates = resolution.deployments.filter((candidate) => candidate.adapter.embed !== undefined);
    if (candidates.length === 0) {
      throw invalidRequest(
        `Model '${request.model}' is served by ${resolution.deployments.map((candidate) => `'${candidate.provider}'`).join(', ')}, which cannot embed; use an embedding model (e.g. text-embedding-3-small).`,
        'model',
        ErrorCode.unsupportedParameter,
      );
    }
    const dispatch: StreamDispatch = {
      deployment: undefined,
      attempts: 0,
      attemptLog: [],
      warnings: [...resolution.warnings],
      upstreamMs: 0,
    };
    let lastError: GatewayError | undefined;
    for (const deployment of candidates) {
      if (dispatch.attempts >= this.routing.maxAttempts) break;
      const key = this.health.keys(deployment.provider).take();
      const circuit = this.health.circuit(deployment);
      if (!key || !circuit.available()) continue;
      circuit.begin();
      dispatch.attempts++;
      dispatch.deployment = deployment;
      const sent = this.clock.now();
      try {
        const result = await deployment.adapter.embed!({
          upstreamModel: deployment.upstreamModel,
          apiKey: key.key,
          signal: options.signal,
          requestId: options.requestId,
          request,
        });
        circuit.success(this.clock.now() - sent);
        dispatch.upstreamMs += this.clock.now() - sent;
        dispatch.attemptLog.push({ provider: deployment.provider, model: deployment.model.id, outcome: 'ok' });
        dispatch.warnings.push(...result.warnings);
        return { ...(dispatch as DispatchInfo), result };
      } catch (caught) {
        dispatch.upstreamMs += this.clock.now() - sent;
        if (options.signal.aborted || !(caught instanceof GatewayError)) {
          circuit.cancel();
          throw remember(caught, dispatch);
        }
        const error = withDelay(caught, this.clock.now());
        dispatch.attemptLog.push({ provider: deployment.provider, model: deployment.model.id, outcome: describe(error) });
        if (!error.isRetryable) {
          circuit.cancel();
          throw remember(error, dispatch);
        }
        lastError = error;
        if (error.code === ErrorCode.upstreamRateLimited)
          this.health.keys(deployment.provider).rateLimited(key.index, error.retryAfterMs ?? this.health.policy.rateLimitCooldownMs);
        else circuit.failure(describe(error), error.retryAfterMs);
      }
    }
    throw remember(exhausted(dispatch, lastError, undefined), dispatch);
  }

  private async plan(
    request: ChatRequest,
    route: RouteOptions,
    streaming: boolean,
    excluded?: ReadonlyMap<string, string>,
  ): Promise<RoutePlan> {
    try {
      return this.router.plan(request, route, streaming, excluded);
    } catch (error) {
      if (error instanceof GatewayError && error.code === ErrorCode.unknownModel && (await this.refreshCatalog()))
        return this.router.plan(request, route, streaming, excluded);
      throw error;
    }
  }

  private async resolve(model: string): Promise<Resolution> {
    try {
      return this.catalog.resolve(model);
    } catch (error) {
      if (error instanceof GatewayError && error.code === ErrorCode.unknownModel && (await this.refreshCatalog()))
        return this.catalog.resolve(model);
      throw error;
    }
  }

  private async execute<T>(
    request: ChatRequest,
    options: CallOptions,
    firstPlan: RoutePlan,
    dispatch: StreamDispatch,
    streaming: boolean,
    call: (deployment: Deployment, context: CallContext) => Promise<T>,
  ): Promise<T & { deployment: Deployment; elapsedMs: number }> {
    let slept = 0;
    let plan = firstPlan;
    let lastError: GatewayError | undefined;
    let contextFloor = 0;
    const tokens = plan.estimate.promptTokens + plan.estimate.maxOutputTokens;
    for (let round = 0; ; round++) {
      if (plan.candidates.length === 0 && round === 0 && plan.rejected.every((entry) => entry.availableAt === undefined))
        throw noCandidate(request.model, plan);
      for (const { deployment } of plan.candidates) {
        if (dispatch.attempts >= this.routing.maxAttempts) break;
        if (contextFloor > 0 && (deployment.model.contextLength ?? 0) <= contextFloor) continue;
        const key = this.health.keys(deployment.provider).take(this.routing.stickyKeys ? stickiness(request) : undefined);
        if (!key) continue;
        const circuit = this.health.circuit(deployment);
        if (!circuit.available()) continue;
        circuit.begin();
        this.health.window(deployment.provider).record(tokens);
        dispatch.attempts++;
        dispatch.deployment = deployment;
        const sent = this.clock.now();
        try {
          const result = await call(deployment, {
            upstreamModel: deployment.upstreamModel,
            apiKey: key.key,
            signal: options.signal,
            requestId: options.requestId,
          });
          const elapsed = this.clock.now() - sent;
          // A stream records its outcome when it ends (streamParts), with this time to first content.
          if (!streaming) circuit.success(elapsed);
          dispatch.upstreamMs += elapsed;
          dispatch.attemptLog.push({ provider: deployment.provider, model: deployment.model.id, outcome: 'ok' });
          return Object.assign(result as object, { deployment, elapsedMs: elapsed }) as T & { deployment: Deployment; elapsedMs: number };
        } catch (caught) {
          dispatch.upstreamMs += this.clock.now() - sent;
          // Outcomes that say nothing about the deployment's health end a half-open probe without a verdict.
          if (options.signal.aborted || !(caught instanceof GatewayError)) {
            circuit.cancel();
            throw caught;
          }
          const error = withDelay(caught, this.clock.now());
          dispatch.attemptLog.push({ provider: deployment.provider, model: deployment.model.id, outcome: describe(error) });
          lastError = error;
          if (error.code === ErrorCode.contextLengthExceeded) {
            circuit.cancel();
            contextFloor = Math.max(contextFloor, deployment.model.contextLength ?? Number.POSITIVE_INFINITY);
            continue;
          }
          if (!error.isRetryable) {
            circuit.cancel();
            throw error;
          }
          // A 429 cools the key alone; a keyless provider (Ollama, a local server) has no key to cool, so its deployment does.
          if (error.code === ErrorCode.upstreamRateLimited && key.index >= 0)
            this.health.keys(deployment.provider).rateLimited(key.index, error.retryAfterMs ?? this.health.policy.rateLimitCooldownMs);
          else
            circuit.failure(
              describe(error),
              error.retryAfterMs ?? (error.code === ErrorCode.upstreamRateLimited ? this.health.policy.rateLimitCooldownMs : undefined),
            );
          if (!plan.fallbacks) break;
        }
      }
      if (lastError?.code === ErrorCode.contextLengthExceeded && contextFloor > 0) throw lastError;
      if (dispatch.attempts >= this.routing.maxAttempts || !plan.fallbacks) throw exhausted(dispatch, lastError, undefined);
      const nextPlan = this.router.plan(request, options.route ?? {}, streaming, options.excluded);
      const earliest = Math.min(...nextPlan.rejected.flatMap((entry) => (entry.availableAt === undefined ? [] : [entry.availableAt])));
      const backoff = Math.min(100 * 2 ** round, 1_000) * (0.5 + this.random() / 2);
      const wait = nextPlan.candidates.length > 0 ? backoff : Math.max(backoff, earliest - this.clock.now());
      // The budget bounds time spent waiting between rounds; attempts themselves are bounded by maxAttempts.
      if (!Number.isFinite(wait) || slept + wait > this.routing.maxWaitMs)
        throw exhausted(dispatch, lastError, Number.isFinite(earliest) ? earliest - this.clock.now() : undefined);
      await this.sleep(wait, options.signal);
      slept += wait;
      plan = this.router.plan(request, options.route ?? {}, streaming, options.excluded);
    }
  }
}

/** Pulls parts until the first content part, so a failure before it can still fail over. */
async function peekFirstContent(
  upstream: ProviderStream,
): Promise<{ upstream: ProviderStream; iterator: AsyncIterator<StreamPart>; buffered: StreamPart[] }> {
  const iterator = upstream[Symbol.asyncIterator]();
  const buffered: StreamPart[] = [];
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done) return { upstream, iterator: { next: async () => ({ done: true, value: undefined }) }, buffered };
      buffered.push(next.value);
      if (isContentPart(next.value)) return { upstream, iterator, buffered };
    }
  } catch (error) {
    await iterator.return?.();
    throw error;
  }
}

const dispatchByError = new WeakMap<object, StreamDispatch>();

/**
 * The attempts a `ChatService` call made before it threw `error` (for `x-cb-attempts` and
 * `x-cb-attempt-errors` on error answers); undefined for errors not thrown by a routed call.
 */
export function dispatchOf(error: unknown): StreamDispatch | undefined {
  return typeof error === 'object' && error !== null ? dispatchByError.get(error) : undefined;
}

function remember(error: unknown, dispatch: StreamDispatch): unknown {
  if (typeof error === 'object' && error !== null && !dispatchByError.has(error)) dispatchByError.set(error, dispatch);
  return error;
}

/** An HTTP-date `Retry-After` becomes a delay from the injected clock's now (cooldowns, then the client's header). */
function withDelay(error: GatewayError, now: number): GatewayError {
  if (!(error instanceof ProviderError) || error.retryAt === undefined || error.retryAfterMs !== undefined) return error;
  return new ProviderError(error.code, error.message, {
    status: error.status,
    ...(error.param === undefined ? {} : { param: error.param }),
    isRetryable: error.isRetryable,
    cause: error,
    retryAfterMs: Math.max(0, error.retryAt - now),
    provider: error.provider,
    ...(error.upstreamStatus === undefined ? {} : { upstreamStatus: error.upstreamStatus }),
    ...(error.upstreamMessage === undefined ? {} : { upstreamMessage: error.upstreamMessage }),
  });
}

function describe(error: GatewayError): string {
  const status = error instanceof ProviderError && error.upstreamStatus !== undefined ? ` ${error.upstreamStatus}` : '';
  return `${error.code}${status}`;
}

function stickiness(request: ChatRequest): string {
  const first = request.messages[0];
  const content = first && 'content' in first ? first.content : '';
  return JSON.stringify(content).slice(0, 1024);
}

function noCandidate(model: string, plan: RoutePlan): GatewayError {
  const reasons = plan.rejected.map((entry) => `${entry.provider}/${entry.model}: ${entry.reason}`).join('; ');
  if (plan.rejected.length > 0 && plan.rejected.every((entry) => entry.code === ErrorCode.budgetExhausted)) {
    return new GatewayError(
      ErrorCode.budgetExhausted,
      `No deployment of '${model}' is within budget: ${reasons}. GET /api/v1/budgets shows what is left and when each resets.`,
      { status: 402 },
    );
  }
  const context = plan.rejected.length > 0 && plan.rejected.every((entry) => entry.reason.includes('exceeds the context'));
  return new GatewayError(
    context ? ErrorCode.contextLengthExceeded : ErrorCode.unsupportedParameter,
    `No deployment of '${model}' can serve this request: ${reasons || 'none is configured'}. Change the request, or name another model (POST /api/v1/route/explain shows the candidates).`,
    { status: 400, param: context ? 'messages' : 'model' },
  );
}

function exhausted(dispatch: StreamDispatch, lastError: GatewayError | undefined, retryAfterMs: number | undefined): GatewayError {
  const tried = dispatch.attemptLog.map((attempt) => `${attempt.provider}/${attempt.model}: ${attempt.outcome}`).join('; ');
  const wait = retryAfterMs ?? lastError?.retryAfterMs;
  if (lastError && dispatch.attempts === 1) return lastError;
  const message = lastError
    ? `Every attempt failed (${dispatch.attempts}): ${tried}. Last error: ${lastError.message}`
    : 'Every provider that can serve this model is cooling down or rate-limited; retry after the Retry-After delay (GET /api/v1/providers/health shows why).';
  const status = lastError && lastError.status !== 503 && dispatch.attempts > 0 ? lastError.status : 503;
  return new GatewayError(lastError ? lastError.code : ErrorCode.noProvider, message, {
    status,
    isRetryable: true,
    // Always say when to come back: the earliest cooldown end, the upstream's own Retry-After, else 1 s.
    retryAfterMs: wait !== undefined && wait > 0 ? wait : 1_000,
  });
}
