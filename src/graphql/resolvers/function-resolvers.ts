import { invalidRequest } from '../../core/errors.js';
import type { ExecutionStatus, FunctionExecutionRecord, StoredFunction } from '../../storage/function-repository.js';
import type { GraphQLContext } from '../graphql-context.js';
import { requireAdmin } from '../graphql-context.js';
import { paginate } from '../pagination.js';
import { orNull } from './workflow-resolvers.js';

type Page = { first?: number | null; after?: string | null };
type FunctionInput = { input: { definition: unknown } };

/** The most executions one `functionExecutions` list pages over (the store answers at most 500, newest first). */
const executionWindow = 500;

/** The function queries over `container.functions` (docs/functions.md); any key may read. */
export const functionQueries = {
  functions: async (_root: unknown, args: Page, context: GraphQLContext) =>
    paginate((await context.container.functions.list()).map(functionOf), args),
  function: async (_root: unknown, args: { name: string }, context: GraphQLContext) =>
    orNull(async () => functionOf(await context.container.functions.get(args.name))),
  functionExecutions: async (_root: unknown, args: Page & { functionName: string; status?: string | null }, context: GraphQLContext) => {
    const records = await context.container.functions.executions(args.functionName, {
      ...(args.status ? { status: args.status.toLowerCase() as ExecutionStatus } : {}),
      limit: executionWindow,
    });
    return paginate(records.map(executionOf), args);
  },
};

/** The function mutations: definitions need the admin key (as on REST); any key may invoke. */
export const functionMutations = {
  createFunction: async (_root: unknown, args: FunctionInput, context: GraphQLContext) => {
    requireAdmin(context, 'createFunction');
    return functionOf(await context.container.functions.create(objectOf(args.input.definition)));
  },
  updateFunction: async (_root: unknown, args: FunctionInput & { name: string }, context: GraphQLContext) => {
    requireAdmin(context, 'updateFunction');
    return functionOf(await context.container.functions.update(args.name, objectOf(args.input.definition)));
  },
  deleteFunction: async (_root: unknown, args: { name: string }, context: GraphQLContext) => {
    requireAdmin(context, 'deleteFunction');
    await context.container.functions.delete(args.name);
    return true;
  },
  invokeFunction: async (
    _root: unknown,
    args: { name: string; input?: unknown; idempotencyKey?: string | null },
    context: GraphQLContext,
  ) => {
    if (
      args.idempotencyKey !== undefined &&
      args.idempotencyKey !== null &&
      (args.idempotencyKey.length < 1 || args.idempotencyKey.length > 200)
    )
      throw invalidRequest('idempotencyKey is 1 to 200 characters.', 'idempotencyKey');
    const record = await context.container.functions.invoke(args.name, args.input ?? null, {
      // The same key space as REST's idempotency_key, so either front door finds the other's execution.
      ...(args.idempotencyKey ? { idempotencyKey: `api:${args.idempotencyKey}` } : {}),
    });
    return executionOf(record);
  },
};

function objectOf(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidRequest('definition must be a JSON object (a function definition, docs/functions.md).', 'definition');
  return value as Record<string, unknown>;
}

function functionOf(stored: StoredFunction) {
  const runtime = stored.definition['runtime'];
  return { ...stored, runtime: typeof runtime === 'string' ? runtime : null };
}

function executionOf(record: FunctionExecutionRecord) {
  return { ...record, status: record.status.toUpperCase() };
}
