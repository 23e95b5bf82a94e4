import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ExecutionArgs } from 'graphql';
import { makeHandler } from 'graphql-ws/use/@fastify/websocket';
import type { Extra } from 'graphql-ws/use/@fastify/websocket';
import type { AppContainer } from '../app/container.js';
import type { Authenticated } from '../auth/key-authenticator.js';
import { newRequestId } from '../core/ids.js';
import { authenticateCaller } from './graphql-context.js';
import type { GraphQLContext } from './graphql-context.js';
import { toGraphQLError } from './graphql-error.js';
import { createGraphQLServer } from './yoga-server.js';

/** graphql-ws close code for a refused `connection_init` (the protocol's own 4403 is "Forbidden"). */
export const unauthorizedCloseCode = 4401;

interface Enveloped {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

/** The `/graphql` request handlers, built on first use by `registerGraphQL` (register-graphql.ts). */
export interface GraphQLHandlers {
  /** POST/GET/OPTIONS `/graphql`: queries, mutations, SSE subscriptions, GraphiQL. */
  http: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  /** The graphql-transport-ws protocol on the same path's WebSocket upgrade (called with Fastify as `this`). */
  ws: (this: FastifyInstance, socket: Extra['socket'], request: FastifyRequest) => void;
}

/**
 * The GraphQL server (the schema, Yoga, graphql-ws) behind `/graphql`. Authentication happens here
 * rather than in the access guard, so refusals are GraphQL errors (HTTP) or close codes (WebSocket)
 * with the gateway's error codes.
 */
export function createGraphQLHandlers(container: AppContainer): GraphQLHandlers {
  const yoga = createGraphQLServer(container);

  const wsHandler = makeHandler<Record<string, unknown>, { auth: Authenticated; requestId: string }>({
    connectionInitWaitTimeout: 10_000,
    onConnect: async (context) => {
      const { request, socket } = context.extra;
      try {
        context.extra.auth = await authenticateCaller(container, request.headers, request.socket.remoteAddress, context.connectionParams);
        context.extra.requestId = request.id;
        return true;
      } catch (error) {
        const mapped = toGraphQLError(error, request.id, container.logger, container.redact);
        socket.close(unauthorizedCloseCode, closeReason(`${String(mapped.extensions['code'])}: ${mapped.message}`));
        return false;
      }
    },
    // Every error a client sees goes through the one mapper (operation errors and results alike).
    onError: (context, _id, _payload, errors) =>
      errors.map((error) => toGraphQLError(error, requestOf(context.extra), container.logger, container.redact).toJSON()),
    onNext: (context, _id, _payload, _args, result) =>
      result.errors
        ? {
            ...result,
            errors: result.errors.map((error) =>
              toGraphQLError(error, requestOf(context.extra), container.logger, container.redact).toJSON(),
            ),
          }
        : undefined,
    execute: (args) => (args.rootValue as Enveloped).execute(args) as never,
    subscribe: (args) => (args.rootValue as Enveloped).subscribe(args) as never,
    onSubscribe: async (context, _id, payload) => {
      const extra = context.extra as Extra & { auth: Authenticated; requestId: string };
      const enveloped = yoga.getEnveloped({ req: extra.request, socket: extra.socket, params: payload });
      const contextValue: GraphQLContext = {
        container,
        auth: extra.auth,
        requestId: `${extra.requestId}:${newRequestId().slice(4, 12)}`,
        signal: socketSignal(extra.socket),
      };
      let document;
      try {
        document = enveloped.parse(payload.query);
      } catch (error) {
        return [toGraphQLError(error, contextValue.requestId, container.logger, container.redact)];
      }
      const args: ExecutionArgs = {
        schema: enveloped.schema,
        document,
        operationName: payload.operationName ?? null,
        variableValues: payload.variables ?? null,
        contextValue,
        rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe } satisfies Enveloped,
      };
      const errors = enveloped.validate(args.schema, args.document);
      if (errors.length > 0) return errors;
      return args;
    },
  });

  const httpHandler = async (request: FastifyRequest, reply: FastifyReply) => {
    const response = await yoga.handleNodeRequestAndResponse(request, reply, { req: request, reply });
    response.headers.forEach((value, name) => void reply.header(name, value));
    reply.status(response.status);
    return reply.send(response.body);
  };

  return { http: httpHandler, ws: wsHandler };
}

const socketSignals = new WeakMap<object, AbortSignal>();

/** One signal per socket, aborted when it closes. */
function socketSignal(socket: Extra['socket']): AbortSignal {
  let signal = socketSignals.get(socket);
  if (!signal) {
    const abort = new AbortController();
    socket.once('close', () => abort.abort(new Error('The client closed the socket.')));
    signal = abort.signal;
    socketSignals.set(socket, signal);
  }
  return signal;
}

function requestOf(extra: unknown): string {
  return (extra as { requestId?: string }).requestId ?? newRequestId();
}

/** A WebSocket close reason is at most 123 bytes. */
function closeReason(text: string): string {
  const bytes = Buffer.from(text);
  return bytes.length <= 123
    ? text
    : `${bytes
        .subarray(0, 120)
        .toString('utf8')
        .replace(/\uFFFD+$/, '')}...`;
}
