import type { PublishResult } from '../../app/workflow-catalog.js';
import { currentPlace } from '../../app/workflow-service.js';
import { ErrorCode, GatewayError, invalidRequest } from '../../core/errors.js';
import { terminalStatuses } from '../../engine/workflow-instance.js';
import type { JsonObject, WorkflowEvent, WorkflowInstance } from '../../engine/workflow-instance.js';
import type { StoredDefinition } from '../../storage/workflow-repository.js';
import { busIterator } from '../../streaming/bus-iterator.js';
import { topics } from '../../streaming/event-bus.js';
import type { GraphQLContext } from '../graphql-context.js';
import { paginate } from '../pagination.js';

type Page = { first?: number | null; after?: string | null };
type Json = Record<string, unknown>;

/** The workflow queries over `container.workflows` (docs/workflows.md), shaped as the REST API shows them. */
export const workflowQueries = {
  workflow: async (_root: unknown, args: { id: string; version?: number | null }, context: GraphQLContext) =>
    orNull(async () => workflowOf(await context.container.workflows.catalog.get(args.id, args.version ?? undefined))),
  workflows: async (_root: unknown, args: Page, context: GraphQLContext) =>
    paginate((await context.container.workflows.catalog.list()).map(workflowOf), args),
  instance: async (_root: unknown, args: { id: string }, context: GraphQLContext) =>
    orNull(async () => instanceOf(await context.container.workflows.getInstance(args.id), context)),
  instances: async (
    _root: unknown,
    args: Page & { filter?: { workflowId?: string | null; status?: string | null } | null },
    context: GraphQLContext,
  ) => {
    const filter = args.filter ?? {};
    const listed = await context.container.workflows.listInstances({
      ...(filter.workflowId ? { workflowId: filter.workflowId } : {}),
      limit: 1000,
    });
    const status = filter.status?.toLowerCase();
    const wanted = status ? listed.filter((instance) => instance.status === status) : listed;
    const page = paginate(wanted, args);
    const nodes = await Promise.all(page.nodes.map((instance) => instanceOf(instance, context)));
    return { ...page, nodes, edges: page.edges.map((edge, index) => ({ cursor: edge.cursor, node: nodes[index] })) };
  },
  availableTransitions: async (_root: unknown, args: { instanceId: string }, context: GraphQLContext) => {
    const { transitions } = await context.container.workflows.transitions(args.instanceId);
    return transitions.map((transition) => ({
      ...transition,
      guard:
        transition.guard === undefined
          ? null
          : { passed: transition.guard.passed, explanation: transition.guard.explanation ?? null, error: transition.guard.error ?? null },
    }));
  },
  /** The log, paged by sequence: the cursor is the last event's sequence, so a long log is read a page at a time. */
  instanceHistory: async (_root: unknown, args: Page & { id: string }, context: GraphQLContext) => {
    const first = args.first ?? 100;
    if (!Number.isInteger(first) || first < 1 || first > 100) throw invalidRequest('first must be a whole number from 1 to 100.', 'first');
    const after = args.after ? sequenceOf(args.after) : 0;
    const events = await context.container.workflows.history(args.id, { afterSequence: after, limit: first + 1 });
    const page = events.slice(0, first).map(eventOf);
    const edges = page.map((node) => ({ cursor: Buffer.from(`seq:${node.sequence}`).toString('base64url'), node }));
    return {
      edges,
      nodes: page,
      pageInfo: { hasNextPage: events.length > first, endCursor: edges.at(-1)?.cursor ?? null },
      totalCount: null,
    };
  },
};

/** The workflow mutations; a definition with analysis errors is a `published: false` answer with its report, not an error. */
export const workflowMutations = {
  createWorkflow: async (_root: unknown, args: { input: { definition: unknown } }, context: GraphQLContext) =>
    publicationOf(await context.container.workflows.catalog.publish(definitionOf(args.input.definition), { kind: 'create' })),
  updateWorkflow: async (_root: unknown, args: { id: string; input: { definition: unknown } }, context: GraphQLContext) =>
    publicationOf(
      await context.container.workflows.catalog.publish(definitionOf(args.input.definition), { kind: 'version', workflowId: args.id }),
    ),
  createWorkflowInstance: async (
    _root: unknown,
    args: { input: { workflowId: string; initialData?: unknown; metadata?: unknown; variables?: unknown; version?: number | null } },
    context: GraphQLContext,
  ) => {
    const { input } = args;
    const instance = await context.container.workflows.startInstance(input.workflowId, {
      ...(input.initialData == null ? {} : { initialData: objectOf(input.initialData, 'initialData') }),
      ...(input.metadata == null ? {} : { metadata: objectOf(input.metadata, 'metadata') }),
      ...(input.variables == null ? {} : { variables: objectOf(input.variables, 'variables') }),
      ...(input.version == null ? {} : { version: input.version }),
    });
    return instanceOf(instance, context);
  },
  fireTransition: async (
    _root: unknown,
    args: { input: { instanceId: string; transitionId: string; data?: unknown; expectedRevision?: number | null } },
    context: GraphQLContext,
  ) => {
    const { input } = args;
    const fired = await context.container.workflows.fire(input.instanceId, input.transitionId, {
      ...(input.data == null ? {} : { data: objectOf(input.data, 'data') }),
      ...(input.expectedRevision == null ? {} : { expectedRevision: input.expectedRevision }),
    });
    return { firingId: fired.firingId, instance: await instanceOf(fired.instance, context) };
  },
  cancelInstance: async (_root: unknown, args: { id: string; reason?: string | null }, context: GraphQLContext) =>
    instanceOf(await context.container.workflows.cancel(args.id, args.reason ?? undefined), context),
};

const endTypes = new Set(['COMPLETION', 'ERROR', 'CANCELLED']);

/** `workflowStream(instanceId | workflowId)`: live events from the bus (every replica's with NATS); an instance's stream ends with it. */
export const workflowStream = {
  subscribe: async (_root: unknown, args: { instanceId?: string | null; workflowId?: string | null }, context: GraphQLContext) => {
    if (!args.instanceId && !args.workflowId) throw invalidRequest('workflowStream needs instanceId or workflowId.', 'instanceId');
    let pattern: string;
    if (args.instanceId) {
      const instance = await context.container.workflows.getInstance(args.instanceId);
      pattern = topics.workflowInstance(instance.workflowId, instance.id);
    } else {
      await context.container.workflows.catalog.get(args.workflowId as string);
      pattern = topics.workflowInstances(args.workflowId as string);
    }
    return busIterator<Json>(context.container.events, pattern, {
      until: (event) => Boolean(args.instanceId) && endTypes.has(String(event['type'])),
      overflow: () =>
        new GatewayError(ErrorCode.slowConsumer, 'The subscription fell more than 1000 events behind; resubscribe.', { status: 429 }),
    });
  },
  resolve: (payload: Json) => streamEventOf(payload),
};

/** The read, or null when it is a 404 (a missing item is a null field, not an error). */
export async function orNull<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof GatewayError && error.code === ErrorCode.notFound) return null;
    throw error;
  }
}

function definitionOf(value: unknown): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidRequest(
      'definition must be a JSON object: {id?, name, places, transitions, start, end} (docs/workflows.md).',
      'definition',
    );
  return value as Json;
}

function objectOf(value: unknown, param: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidRequest(`${param} must be a JSON object.`, param);
  return value as JsonObject;
}

function sequenceOf(cursor: string): number {
  const match = /^seq:(\d{1,12})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match?.[1]) throw invalidRequest('after is not a cursor of this history (use pageInfo.endCursor).', 'after');
  return Number(match[1]);
}

function publicationOf(result: PublishResult) {
  return result.ok
    ? { published: true, workflow: workflowOf(result.record), analysis: result.report }
    : { published: false, workflow: null, analysis: result.report };
}

function workflowOf(record: StoredDefinition) {
  const definition = record.definition as unknown as { name?: string; places: Json[]; transitions: Json[] };
  return {
    id: record.workflowId,
    version: record.version,
    name: definition.name ?? null,
    places: definition.places,
    transitions: definition.transitions.map((transition) => ({ trigger: 'automatic', action: 'none', guard: null, ...transition })),
    definition: record.definition,
    analysis: record.analysis,
    createdAt: new Date(record.createdAt).toISOString(),
  };
}

/**
 * An instance as the API shows it, with the agents of its workflow's transitions (the seed's
 * `agents {id role status}`): the role from the agent's definition (inline or stored), the status from
 * the instance's latest execution of that agent (`running`, `completed`, `failed`, …), `pending` before
 * it ran, `skipped` when the instance finished without running it.
 */
async function instanceOf(instance: WorkflowInstance, context: GraphQLContext) {
  const record = await context.container.workflows.catalog.get(instance.workflowId, instance.version);
  const finished = terminalStatuses.includes(instance.status);
  const transitions = record.definition.transitions as unknown as { id: string; action?: unknown }[];
  const declared = transitions.flatMap((transition) => {
    const action = transition.action as { agent?: unknown } | undefined;
    if (typeof action !== 'object' || action === null || action.agent === undefined) return [];
    const inline =
      typeof action.agent === 'object' && action.agent !== null
        ? (action.agent as { id?: unknown; name?: unknown; role?: unknown })
        : undefined;
    const id = typeof action.agent === 'string' ? action.agent : String(inline?.id ?? inline?.name ?? transition.id);
    return [{ id, transitionId: transition.id, inlineRole: typeof inline?.role === 'string' ? inline.role : undefined }];
  });
  const latest = new Map<string, string>();
  if (declared.length > 0)
    for (const execution of await context.container.agents.agentExecutions({ instanceId: instance.id }))
      if (!latest.has(execution.agentId)) latest.set(execution.agentId, execution.status); // newest first
  const agents = await Promise.all(
    declared.map(async (agent) => ({
      id: agent.id,
      role: agent.inlineRole ?? (await context.container.agents.get(agent.id))?.agent.role ?? agent.transitionId,
      status: latest.get(agent.id) ?? (finished ? 'skipped' : 'pending'),
    })),
  );
  return {
    ...instance,
    status: instance.status.toUpperCase(),
    currentPlace: currentPlace(instance),
    streamUrl: `/api/v1/workflows/instances/${instance.id}/events`,
    error: instance.error ?? null,
    tokens: instance.tokens.map((token) => ({
      ...token,
      createdBy: token.createdBy ?? null,
      createdAt: new Date(token.createdAt).toISOString(),
    })),
    agents,
    createdAt: new Date(instance.createdAt).toISOString(),
    updatedAt: new Date(instance.updatedAt).toISOString(),
  };
}

function eventOf(event: WorkflowEvent) {
  return {
    sequence: event.sequence,
    type: event.type,
    at: new Date(event.at).toISOString(),
    firingId: event.firingId ?? null,
    data: event.data,
  };
}

/** A bus payload (an engine log event `{type, data, sequence…}` or an agent's flat event) as a `WorkflowStreamEvent`. */
function streamEventOf(payload: Json) {
  const data = (typeof payload['data'] === 'object' && payload['data'] !== null ? payload['data'] : payload) as Json;
  const pick = (name: string): unknown => payload[name] ?? data[name] ?? null;
  const text = (name: string): string | null => {
    const value = pick(name);
    return typeof value === 'string' ? value : null;
  };
  const type = String(payload['type'] ?? 'UNKNOWN');
  const error = type === 'ERROR' || type === 'AGENT_FAILED' ? { code: pick('code'), message: pick('message') } : null;
  return {
    eventType: type,
    instanceId: String(payload['instanceId'] ?? ''),
    workflowId: String(payload['workflowId'] ?? ''),
    sequence: typeof payload['sequence'] === 'number' ? payload['sequence'] : null,
    at: new Date(typeof payload['at'] === 'number' ? payload['at'] : Date.now()).toISOString(),
    transitionId: text('transitionId'),
    fromPlace: text('fromPlace'),
    toPlace: text('toPlace'),
    agentId: text('agentId'),
    functionId: text('functionId'),
    content: text('content'),
    status: text('status'),
    progress: typeof pick('progress') === 'number' ? (pick('progress') as number) : null,
    result: pick('result'),
    error,
    data,
  };
}
