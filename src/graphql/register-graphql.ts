import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ExecutionArgs } from 'graphql';
import { makeHandler } from 'graphql-ws/use/@fastify/websocket';
import type { Extra } from 'graphql-ws/use/@fastify/websocket';
import type { AppContainer } from '../app/container.js';
import type { Authenticated } from '../auth/key-authenticator.js';
import { newRequestId } from '../core/ids.js';
import { mapError } from '../http/error-mapper.js';
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

/**
 * `/graphql` on the Fastify server: POST and GET for queries and mutations (and subscriptions over SSE
 * with `Accept: text/event-stream`), GraphiQL for a browser's GET, the graphql-transport-ws protocol
 * on the same path's WebSocket upgrade, and `GET /` sending browsers to the playground. Must be
 * registered after `@fastify/websocket`. Authentication happens here rather than in the access guard, so
 * refusals are GraphQL errors (HTTP) or close codes (WebSocket) with the gateway's error codes.
 */
export function registerGraphQL(app: FastifyInstance, container: AppContainer): void {
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

  // A body Fastify cannot parse (not JSON, too large) is answered in GraphQL's shape too.
  const errorHandler = (error: unknown, request: FastifyRequest, reply: FastifyReply): void => {
    const mapped = mapError(error, request.id, container.logger, container.redact);
    void reply
      .code(mapped.status)
      .headers(mapped.headers)
      .send({ errors: [{ message: mapped.body.error.message, extensions: { code: mapped.body.error.code, status: mapped.status } }] });
  };
  app.route({ method: 'GET', url: '/graphql', config: { access: 'open' }, errorHandler, handler: httpHandler, wsHandler });
  app.route({ method: ['POST', 'OPTIONS'], url: '/graphql', config: { access: 'open' }, errorHandler, handler: httpHandler });

  // A browser opening the server's root lands in the playground; API clients get the 404 that lists the routes.
  app.get('/', { config: { access: 'open' } }, async (request, reply) => {
    if (!(request.headers.accept ?? '').includes('text/html')) return reply.callNotFound();
    return reply.redirect('/graphql', 302);
  });
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
