import type { FastifyRequest } from 'fastify';
import type { CompletionContext } from '../app/completion-service.js';
import type { Attribution } from '../core/principal.js';
import type { RouteOptions } from '../routing/route-options.js';

/**
 * The use-case context of an HTTP request: its principal (set by the access guard), attribution labels
 * from `x-cb-tags` (comma-separated), `x-cb-environment`, and `x-cb-workflow-id` / `x-cb-agent-id` for
 * callers that run their own agents, and the abort signal of the connection.
 */
export function completionContext(request: FastifyRequest, endpoint: string, signal: AbortSignal, route?: RouteOptions): CompletionContext {
  const attribution: Attribution = {};
  const tags = header(request, 'x-cb-tags');
  if (tags)
    attribution.tags = tags
      .split(',')
      .map((tag) => tag.trim())
      .filter((tag) => /^[\w.:-]{1,64}$/.test(tag))
      .slice(0, 20);
  const environment = header(request, 'x-cb-environment');
  if (environment && /^[\w.-]{1,64}$/.test(environment)) attribution.environment = environment;
  const workflow = header(request, 'x-cb-workflow-id');
  if (workflow && /^[\w.:-]{1,128}$/.test(workflow)) attribution.workflowId = workflow;
  const agent = header(request, 'x-cb-agent-id');
  if (agent && /^[\w.:-]{1,128}$/.test(agent)) attribution.agentId = agent;
  return { requestId: request.id, principal: request.auth.principal, attribution, signal, endpoint, ...(route ? { route } : {}) };
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
