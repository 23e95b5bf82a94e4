import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GraphQLScalarType, Kind, valueFromASTUntyped } from 'graphql';
import type { GraphQLSchema } from 'graphql';
import { createSchema } from 'graphql-yoga';
import { invalidRequest } from '../core/errors.js';
import type { GraphQLContext } from './graphql-context.js';
import { agentMutations, agentQueries } from './resolvers/agent-resolvers.js';
import { createCompletion } from './resolvers/completion-resolvers.js';
import type { CompletionInput } from './resolvers/completion-resolvers.js';
import { functionMutations, functionQueries } from './resolvers/function-resolvers.js';
import { models, providers } from './resolvers/catalog-resolvers.js';
import { evaluateRuleOperation, ruleMutations, ruleQueries } from './resolvers/rule-resolvers.js';
import { subscriptionResolvers } from './resolvers/subscription-resolvers.js';
import { budgetStatus, budgets, costAnalysis, metrics, setBudget } from './resolvers/usage-resolvers.js';
import { workflowMutations, workflowQueries, workflowStream } from './resolvers/workflow-resolvers.js';

/**
 * The SDL checked into the repo (`src/graphql/schema.graphql`), the source of truth for the API's
 * types. Found beside this module, or — in the compiled `dist/` tree, which has no `.graphql` files —
 * in the source tree.
 */
export function loadSdl(): string {
  for (const candidate of ['./schema.graphql', '../../../src/graphql/schema.graphql']) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return readFileSync(path, 'utf8');
  }
  throw new Error('src/graphql/schema.graphql is missing');
}

const json = new GraphQLScalarType({
  name: 'JSON',
  description: 'Any JSON value.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast, variables) => valueFromASTUntyped(ast, variables),
});

const dateTime = new GraphQLScalarType({
  name: 'DateTime',
  description: 'An ISO 8601 date-time (UTC).',
  serialize: (value) => (typeof value === 'number' ? new Date(value).toISOString() : value),
  parseValue: (value) => isoDate(value),
  parseLiteral: (ast) => isoDate(ast.kind === Kind.STRING ? ast.value : undefined),
});

function isoDate(value: unknown): string {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value)))
    throw invalidRequest('A DateTime is an ISO 8601 date-time such as 2026-12-01T00:00:00Z.');
  return value;
}

type Args<T> = (root: unknown, args: T, context: GraphQLContext) => unknown;
type Page = { first?: number | null; after?: string | null };

/** The resolvers, thin: each calls one use case over `context.container`. */
export const resolvers = {
  JSON: json,
  DateTime: dateTime,
  Query: {
    models: ((_root, args, context) => models(args, context)) as Args<Page & { provider?: string | null }>,
    providers: ((_root, args, context) => providers(args, context)) as Args<Page>,
    costAnalysis: ((_root, args, context) => costAnalysis(args, context)) as Args<Parameters<typeof costAnalysis>[0]>,
    budgets: ((_root, args, context) => budgets(args, context)) as Args<Page>,
    budgetStatus: ((_root, args, context) => budgetStatus(args, context)) as Args<{ id?: string | null }>,
    metrics: ((_root, args, context) => metrics(args, context)) as Args<Parameters<typeof metrics>[0]>,
    ...workflowQueries,
    ...agentQueries,
    ...functionQueries,
    ...ruleQueries,
  },
  Mutation: {
    createCompletion: ((_root, args, context) => createCompletion(args.input, context)) as Args<{ input: CompletionInput }>,
    setBudget: ((_root, args, context) => setBudget(args, context)) as Args<Parameters<typeof setBudget>[0]>,
    evaluateRule: ((_root, args, context) => evaluateRuleOperation(args.input, context.container.rules.registry)) as Args<{
      input: { rule?: unknown; ruleId?: string | null; data: unknown };
    }>,
    ...workflowMutations,
    ...agentMutations,
    ...functionMutations,
    ...ruleMutations,
  },
  Subscription: { ...subscriptionResolvers, workflowStream },
  Metrics: {
    series: ((root, args) => (root as { series: (page: Page) => unknown }).series(args)) as Args<Page>,
  },
};

/** The executable schema: the SDL with the resolvers; a resolver for a field the SDL lacks fails here. */
export function buildGraphQLSchema(typeDefs: string = loadSdl()): GraphQLSchema {
  return createSchema<GraphQLContext>({
    typeDefs,
    resolvers,
    resolverValidationOptions: { requireResolversToMatchSchema: 'error', requireResolversForResolveType: 'error' },
  });
}
