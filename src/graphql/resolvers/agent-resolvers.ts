import type { StoredAgent } from '../../app/agent-service.js';
import { ErrorCode, GatewayError, invalidRequest } from '../../core/errors.js';
import type { AgentExecutionRecord } from '../../storage/agent-repository.js';
import type { GraphQLContext } from '../graphql-context.js';
import { requireAdmin } from '../graphql-context.js';
import { paginate } from '../pagination.js';

type Page = { first?: number | null; after?: string | null };
type AgentInput = { input: { definition: unknown } };

/** The most executions one `agentExecutions` list pages over (newest first). */
const executionWindow = 1000;

/** The agent queries over `container.agents` (docs/agents.md); any key may read. */
export const agentQueries = {
  agents: async (_root: unknown, args: Page, context: GraphQLContext) =>
    paginate((await context.container.agents.list()).map(agentOf), args),
  agent: async (_root: unknown, args: { id: string }, context: GraphQLContext) => {
    const stored = await context.container.agents.get(args.id);
    return stored ? agentOf(stored) : null;
  },
  agentExecutions: async (
    _root: unknown,
    args: Page & { agentId?: string | null; instanceId?: string | null },
    context: GraphQLContext,
  ) => {
    const records = await context.container.agents.agentExecutions({
      ...(args.agentId ? { agentId: args.agentId } : {}),
      ...(args.instanceId ? { instanceId: args.instanceId } : {}),
      limit: executionWindow,
    });
    return paginate<AgentExecutionRecord>(records, args);
  },
};

/** The agent mutations: admin key only, as on REST; definitions are checked by the service's own schema. */
export const agentMutations = {
  createAgent: async (_root: unknown, args: AgentInput, context: GraphQLContext) => {
    requireAdmin(context, 'createAgent');
    const definition = objectOf(args.input.definition);
    const id = definition['id'];
    if (typeof id === 'string' && (await context.container.agents.get(id)))
      throw new GatewayError(ErrorCode.invalidRequest, `An agent '${id}' exists; change it with updateAgent(id: "${id}").`, {
        status: 409,
        param: 'id',
      });
    return agentOf(await context.container.agents.define(definition));
  },
  updateAgent: async (_root: unknown, args: AgentInput & { id: string }, context: GraphQLContext) => {
    requireAdmin(context, 'updateAgent');
    const definition = { id: args.id, ...objectOf(args.input.definition) };
    if (definition.id !== args.id)
      throw invalidRequest(`The definition names '${String(definition.id)}' but id is '${args.id}'; an agent cannot be renamed.`, 'id');
    if (!(await context.container.agents.get(args.id)))
      throw new GatewayError(ErrorCode.notFound, `There is no agent '${args.id}'; define it with createAgent.`, { status: 404 });
    return agentOf(await context.container.agents.define(definition));
  },
  deleteAgent: async (_root: unknown, args: { id: string }, context: GraphQLContext) => {
    requireAdmin(context, 'deleteAgent');
    await context.container.agents.delete(args.id);
    return true;
  },
};

function objectOf(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidRequest('definition must be a JSON object (an agent definition, docs/agents.md).', 'definition');
  return value as Record<string, unknown>;
}

function agentOf({ record, agent }: StoredAgent) {
  return {
    id: record.id,
    version: record.version,
    name: agent.name,
    role: agent.role ?? null,
    model: agent.model,
    definition: record.definition,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}
