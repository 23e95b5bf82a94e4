import type { CompletionContext } from '../../app/completion-service.js';
import type { StreamDispatch } from '../../app/chat-service.js';
import type { Attribution } from '../../core/principal.js';
import type { Usage } from '../../core/usage.js';
import { parseChatRequest } from '../../http/schemas/parse-chat-request.js';
import type { GraphQLContext } from '../graphql-context.js';

/** `CompletionInput` as GraphQL hands it over (enums as their names; absent and null both possible). */
export interface CompletionInput {
  provider?: string | null;
  providerName?: string | null;
  model: string;
  messages: { role: string; content?: string | null; name?: string | null; toolCallId?: string | null; toolCalls?: unknown }[];
  stream?: boolean | null;
  temperature?: number | null;
  maxTokens?: number | null;
  topP?: number | null;
  stop?: string[] | null;
  seed?: number | null;
  user?: string | null;
  tools?: unknown;
  toolChoice?: unknown;
  responseFormat?: unknown;
  routing?: {
    strategy?: string | null;
    fallbackModels?: string[] | null;
    preferredProviders?: string[] | null;
    maxCostPer1kTokens?: number | null;
    maxLatencyMs?: number | null;
  } | null;
}

/**
 * `createCompletion`: the input becomes an OpenAI chat body and goes through the same validation,
 * admission (key scope, cost rules, rate limits, budget hold), routing and ledger as
 * `POST /v1/chat/completions`, with `endpoint: 'graphql'`. A `provider` restricts the route to that
 * provider (`openai/gpt-4` style, so a model the catalog does not list yet is passed through).
 */
export async function createCompletion(input: CompletionInput, context: GraphQLContext) {
  const { container } = context;
  const body = chatBody(input, new Set(Object.keys(container.config.aliases)));
  const { chat, route } = parseChatRequest(body);
  const strategy = (route.circuit_breaker?.routing_strategy ?? container.config.routing.strategy).toUpperCase();
  const base: Omit<CompletionContext, 'signal'> = {
    requestId: context.requestId,
    principal: context.auth.principal,
    attribution: {} satisfies Attribution,
    endpoint: 'graphql',
    route,
  };
  if (chat.stream) {
    const started = await container.completionStreams.start(chat, base);
    return {
      id: started.id,
      content: null,
      model: chat.model,
      provider: started.dispatch.deployment?.provider ?? null,
      finishReason: null,
      toolCalls: [],
      usage: null,
      routing: routingOf(started.dispatch, strategy),
      stream: true,
      warnings: started.dispatch.warnings,
    };
  }
  const { result, metering, ...dispatch } = await container.completions.complete(chat, { ...base, signal: context.signal });
  const choice = result.response.choices[0];
  return {
    id: result.response.id,
    content: choice?.message.content ?? null,
    model: result.response.model,
    provider: dispatch.deployment.provider,
    finishReason: choice?.finish_reason ?? null,
    toolCalls: (choice?.message.tool_calls ?? []).map((call) => ({
      id: call.id,
      name: call.function.name,
      arguments: call.function.arguments,
    })),
    usage: result.usage ? usageOf(result.usage, metering.costUsd) : null,
    routing: routingOf(dispatch, strategy),
    stream: false,
    warnings: dispatch.warnings,
  };
}

function chatBody(input: CompletionInput, aliases: ReadonlySet<string>): Record<string, unknown> {
  const slug = input.provider ? input.provider.toLowerCase() : (input.providerName ?? undefined);
  const prefixed = slug !== undefined && !input.model.includes('/') && !aliases.has(input.model);
  const routing = input.routing;
  const body: Record<string, unknown> = {
    model: prefixed ? `${slug}/${input.model}` : input.model,
    messages: input.messages.map((message) => ({
      ...defined({ role: message.role.toLowerCase(), name: message.name, tool_call_id: message.toolCallId, tool_calls: message.toolCalls }),
      content: message.content ?? null,
    })),
    stream: input.stream === true,
    temperature: input.temperature,
    max_tokens: input.maxTokens,
    top_p: input.topP,
    stop: input.stop,
    seed: input.seed,
    user: input.user,
    tools: input.tools,
    tool_choice: input.toolChoice,
    response_format: input.responseFormat,
    provider: slug !== undefined && !prefixed ? { only: [slug] } : undefined,
    circuit_breaker: routing
      ? defined({
          routing_strategy: routing.strategy?.toLowerCase(),
          fallback_models: routing.fallbackModels,
          preferred_providers: routing.preferredProviders,
          max_cost_per_1k_tokens: routing.maxCostPer1kTokens,
          max_latency_ms: routing.maxLatencyMs,
        })
      : undefined,
  };
  return defined(body);
}

function routingOf(dispatch: Pick<StreamDispatch, 'attempts' | 'attemptLog'>, strategy: string) {
  return { attempts: dispatch.attempts, fallbackUsed: dispatch.attempts > 1, strategy, attemptLog: dispatch.attemptLog };
}

export function usageOf(usage: Usage, costUsd: number | undefined) {
  return {
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    totalTokens: usage.promptTokens + usage.completionTokens,
    cost: costUsd ?? null,
  };
}

/** The object without its undefined and null fields (GraphQL gives null for an explicit null). */
function defined(object: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined && value !== null));
}
