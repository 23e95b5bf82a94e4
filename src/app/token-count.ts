import type { ChatRequest } from '../core/chat.js';
import { ErrorCode, GatewayError } from '../core/errors.js';
import { modelAllowed } from '../core/principal.js';
import type { Principal } from '../core/principal.js';
import type { RouteOptions } from '../routing/route-options.js';
import type { RoutePlan } from '../routing/router.js';
import { estimatePromptTokens } from '../routing/token-estimate.js';
import { stripSuffix } from './request-admission.js';

/**
 * The prompt size of a request in tokens, without sending it anywhere (Anthropic's `count_tokens`): the
 * key must be allowed the model (403), the model must exist (404 with the closest names, after the same
 * on-demand discovery a real request gets), then system prompt, messages and tool definitions are
 * counted with the gateway's tokenizer (OpenAI's o200k: within a few percent of other providers' own
 * counts; images count a flat 765). Nothing is recorded in the ledger: nothing is spent.
 */
export async function countPromptTokens(
  planner: { explain(request: ChatRequest, route: RouteOptions): Promise<RoutePlan> },
  request: ChatRequest,
  principal: Principal,
  route: RouteOptions,
): Promise<number> {
  if (!modelAllowed(principal.models, stripSuffix(request.model)))
    throw new GatewayError(
      ErrorCode.permission,
      `The key '${principal.name}' may not use model '${request.model}' (it may use: ${(principal.models ?? []).join(', ')}).`,
      { status: 403, param: 'model' },
    );
  await planner.explain(request, route);
  return estimatePromptTokens(request);
}
