import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { createRequire } from 'node:module';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ExecutionResult, GraphQLError as GraphQLErrorType } from 'graphql';
import { createYoga, handleStreamOrSingleExecutionResult, isAsyncIterable, mapAsyncIterator } from 'graphql-yoga';
import type { GraphiQLOptions, Plugin, YogaServerInstance } from 'graphql-yoga';
import type { AppContainer } from '../app/container.js';
import { newRequestId } from '../core/ids.js';
import { authenticateCaller } from './graphql-context.js';
import type { GraphQLContext } from './graphql-context.js';
import { markTooComplex, toGraphQLError } from './graphql-error.js';
import { buildGraphQLSchema } from './graphql-schema.js';

/** The limits every operation is checked against before it runs. */
export const queryLimits = {
  /** Deepest selection nesting (introspection excluded). */
  maxDepth: 8,
  /** armor's cost: 2 per object field, 1 per scalar, ×1.5 per level of depth. */
  maxCost: 2_000,
};

/** What the HTTP adapter gives yoga: Fastify's request and reply. */
export interface ServerContext {
  req: FastifyRequest;
  reply: FastifyReply;
}

const defaultQuery = `# Circuit Breaker GraphQL. Send your key in the headers tab: {"Authorization": "Bearer cb_…"}
query Models {
  models(first: 10) {
    nodes { id providers contextLength capabilities { tools vision } }
    pageInfo { hasNextPage endCursor }
  }
}
`;

/**
 * The GraphQL server (GraphQL Yoga, docs/adr/0010-graphql-server.md): the SDL-first schema, queries
 * and mutations over POST/GET `/graphql`, subscriptions over SSE (`Accept: text/event-stream`) on the
 * same path, GraphiQL for browsers, the depth and cost limits, and the one error mapper for every
 * error (validation, execution, subscription). graphql-ws reuses `getEnveloped` of this instance.
 */
export function createGraphQLServer(container: AppContainer): YogaServerInstance<ServerContext, GraphQLContext> {
  const requestIdOf = (context: unknown): string => (context as Partial<GraphQLContext> | undefined)?.requestId ?? newRequestId();
  const map = (error: unknown, context: unknown): GraphQLErrorType =>
    toGraphQLError(error, requestIdOf(context), container.logger, container.redact);
  const mapResult = (result: ExecutionResult, context: unknown): ExecutionResult =>
    result.errors ? { ...result, errors: result.errors.map((error) => map(error, context)) } : result;
  const limitRejected = [(_context: unknown, error: GraphQLErrorType) => markTooComplex(error)];

  const mapAny = (result: unknown, requestId: string): unknown => {
    if (Array.isArray(result)) return result.map((entry) => mapAny(entry, requestId));
    if (isAsyncIterable(result)) return mapAsyncIterator(result, (entry) => mapAny(entry, requestId));
    return mapResult(result as ExecutionResult, { requestId });
  };
  const errorMapping: Plugin<GraphQLContext> = {
    // The last stop before the wire (HTTP and SSE): errors that no earlier hook saw (parse errors, limits) get mapped too.
    onResultProcess: ({ result, setResult, serverContext }) => {
      const requestId = (serverContext as Partial<ServerContext>).req?.id ?? newRequestId();
      setResult(mapAny(result, requestId) as typeof result);
    },
    onValidate:
      () =>
      ({ result, setResult, context }) => {
        if (result.length > 0) setResult(result.map((error: unknown) => map(error, context)));
      },
    onExecute: () => ({
      onExecuteDone: (payload) =>
        handleStreamOrSingleExecutionResult(payload, ({ result, setResult }) => setResult(mapResult(result, payload.args.contextValue))),
    }),
    onSubscribe: () => ({
      onSubscribeResult: (payload) =>
        handleStreamOrSingleExecutionResult(payload, ({ result, setResult }) => setResult(mapResult(result, payload.args.contextValue))),
      onSubscribeError: ({ error, setError }) => setError(map(error, undefined)),
    }),
  };

  return createYoga<ServerContext, GraphQLContext>({
    schema: buildGraphQLSchema(),
    graphqlEndpoint: '/graphql',
    logging: false,
    landingPage: false,
    maskedErrors: false,
    batching: false,
    graphiql: { title: 'Circuit Breaker GraphQL', subscriptionsProtocol: 'WS', defaultQuery },
    renderGraphiQL: renderBundledGraphiQL,
    context: async ({ req, request }): Promise<GraphQLContext> => {
      try {
        const auth = await authenticateCaller(container, req.headers, req.socket.remoteAddress);
        return { container, auth, requestId: req.id, signal: request.signal };
      } catch (error) {
        const mapped = map(error, { requestId: req.id });
        (mapped.extensions as Record<string, unknown>)['http'] = { status: (mapped.extensions['status'] as number | undefined) ?? 401 };
        throw mapped;
      }
    },
    plugins: [
      maxDepthPlugin({ n: queryLimits.maxDepth, ignoreIntrospection: true, flattenFragments: true, onReject: limitRejected }),
      costLimitPlugin({ maxCost: queryLimits.maxCost, ignoreIntrospection: true, onReject: limitRejected }),
      errorMapping,
    ],
  });
}

const require = createRequire(import.meta.url);
let bundledGraphiQL: ((options?: GraphiQLOptions) => string) | undefined;

/**
 * The playground page with GraphiQL's scripts and styles inline (@graphql-yoga/render-graphiql), so it
 * works in a browser without internet access — Yoga's default page loads them from a CDN. The bundle is
 * large (~18 MB on disk), so it is read on the first page view, not at start-up.
 */
function renderBundledGraphiQL(options?: GraphiQLOptions): string {
  bundledGraphiQL ??= (require('@graphql-yoga/render-graphiql') as { renderGraphiQL: (options?: GraphiQLOptions) => string })
    .renderGraphiQL;
  return bundledGraphiQL(options);
}
