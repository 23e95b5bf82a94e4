import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { StoredAgent } from '../../app/agent-service.js';
import type { AppContainer } from '../../app/container.js';
import { ErrorCode, GatewayError, invalidRequest } from '../../core/errors.js';
import type { AgentExecutionRecord } from '../../storage/agent-repository.js';

const admin = { config: { access: 'admin' as const } };

const executionsQuery = z.strictObject({
  status: z.enum(['running', 'completed', 'failed', 'timed_out', 'cancelled']).optional(),
  workflow_id: z.string().min(1).optional(),
  instance_id: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

type AgentParams = { Params: { id: string } };

/**
 * Agents (docs/agents.md, "API"): definitions are managed with the admin key (`POST /api/v1/agents`,
 * `PUT|DELETE /api/v1/agents/{id}`); any key may list and read them and their executions. A
 * definition is checked before it is stored (400 with every problem); each change is a new version.
 */
export function registerAgents(app: FastifyInstance, container: AppContainer): void {
  const agents = container.agents;
  app.post('/api/v1/agents', admin, async (request, reply) => {
    const body = requireObject(request.body);
    if (typeof body['id'] === 'string' && (await agents.get(body['id'])))
      throw new GatewayError(ErrorCode.alreadyExists, `An agent '${body['id']}' exists; change it with PUT /api/v1/agents/${body['id']}.`, {
        status: 409,
        param: 'id',
      });
    const stored = await agents.define(body);
    reply.code(201);
    return agentJson(stored);
  });
  app.get('/api/v1/agents', async () => ({ data: (await agents.list()).map(agentJson) }));
  app.get<AgentParams>('/api/v1/agents/:id', async (request) => agentJson(await existing(container, request.params.id)));
  app.put<AgentParams>('/api/v1/agents/:id', admin, async (request) => {
    const body = requireObject(request.body);
    if (body['id'] !== undefined && body['id'] !== request.params.id)
      throw invalidRequest(
        `The body's id '${String(body['id'])}' is not the agent '${request.params.id}' of the path; leave it out or make them equal.`,
        'id',
      );
    await existing(container, request.params.id);
    return agentJson(await agents.define({ ...body, id: request.params.id }));
  });
  app.delete<AgentParams>('/api/v1/agents/:id', admin, async (request, reply) => {
    await agents.delete(request.params.id);
    reply.code(204);
  });
  app.get<AgentParams & { Querystring: unknown }>('/api/v1/agents/:id/executions', async (request) => {
    await existing(container, request.params.id);
    const parsed = executionsQuery.safeParse(request.query ?? {});
    if (!parsed.success)
      throw invalidRequest(`Invalid query: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
    const { status, workflow_id: workflowId, instance_id: instanceId, limit } = parsed.data;
    const records = await agents.agentExecutions({
      agentId: request.params.id,
      ...(status ? { status } : {}),
      ...(workflowId ? { workflowId } : {}),
      ...(instanceId ? { instanceId } : {}),
      ...(limit ? { limit } : {}),
    });
    return { data: records.map(agentExecutionJson) };
  });
}

async function existing(container: AppContainer, id: string): Promise<StoredAgent> {
  const stored = await container.agents.get(id);
  if (!stored)
    throw new GatewayError(ErrorCode.notFound, `There is no agent '${id}'; GET /api/v1/agents lists the defined ones.`, { status: 404 });
  return stored;
}

function requireObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalidRequest('The request body must be an agent definition as a JSON object.');
  return body as Record<string, unknown>;
}

export function agentJson(stored: StoredAgent) {
  return {
    id: stored.record.id,
    version: stored.record.version,
    definition: stored.record.definition,
    created_at: new Date(stored.record.createdAt).toISOString(),
    updated_at: new Date(stored.record.updatedAt).toISOString(),
  };
}

export function agentExecutionJson(record: AgentExecutionRecord) {
  return {
    id: record.id,
    agent_id: record.agentId,
    workflow_id: record.workflowId,
    instance_id: record.instanceId,
    transition_id: record.transitionId,
    place_id: record.placeId,
    firing_id: record.firingId,
    status: record.status,
    input: record.input,
    output: record.output,
    error: record.error,
    requested_model: record.requestedModel,
    provider: record.provider,
    model: record.model,
    prompt_tokens: record.promptTokens,
    completion_tokens: record.completionTokens,
    cost_usd: record.costUsd,
    duration_ms: record.durationMs,
    attempts: record.attempts,
    started_at: new Date(record.startedAt).toISOString(),
    finished_at: record.finishedAt === null ? null : new Date(record.finishedAt).toISOString(),
  };
}
