import type { ChatRequest } from '../../core/chat.js';
import { routeOptionsSchema } from '../../routing/route-options.js';
import type { RouteOptions } from '../../routing/route-options.js';
import { validateBody } from '../validate.js';
import { chatRequestSchema, gatewayFields } from './chat-request-schema.js';

/**
 * A chat completion body → the request for the upstream and the routing options that steer the gateway
 * (OpenRouter's `models`/`provider`, the seed's `circuit_breaker`), which never go upstream. Both are
 * validated: a bad field is a 400 naming it.
 */
export function parseChatRequest(body: unknown): { chat: ChatRequest; route: RouteOptions } {
  const chat = validateBody(chatRequestSchema, body) as ChatRequest;
  const route = validateBody(routeOptionsSchema, {
    models: chat['models'],
    provider: chat['provider'],
    circuit_breaker: chat['circuit_breaker'],
  });
  for (const field of gatewayFields) delete chat[field];
  return { chat, route };
}
