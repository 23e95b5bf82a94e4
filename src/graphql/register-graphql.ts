import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { AppContainer } from '../app/container.js';
import { mapError } from '../http/error-mapper.js';
import type { GraphQLHandlers } from './graphql-handlers.js';

/**
 * `/graphql` on the Fastify server: POST and GET for queries and mutations (and subscriptions over SSE
 * with `Accept: text/event-stream`), GraphiQL for a browser's GET, the graphql-transport-ws protocol
 * on the same path's WebSocket upgrade, and `GET /` sending browsers to the playground. Must be
 * registered after `@fastify/websocket`.
 *
 * The GraphQL server itself (graphql-js, Yoga, the schema: ~1 MB of code and the schema build, a third
 * of the start-up time) is loaded and built on the first `/graphql` request or upgrade, not at start
 * (docs/adr/0014-bundled-build-and-lazy-loading.md).
 */
export function registerGraphQL(app: FastifyInstance, container: AppContainer): void {
  let handlers: Promise<GraphQLHandlers> | undefined;
  const load = (): Promise<GraphQLHandlers> =>
    (handlers ??= import('./graphql-handlers.js').then(({ createGraphQLHandlers }) => createGraphQLHandlers(container)));

  const httpHandler = async (request: FastifyRequest, reply: FastifyReply) => (await load()).http(request, reply);

  // graphql-ws attaches its listeners when called; messages that arrive while the server loads (a
  // client sends `connection_init` right after the upgrade) are kept and replayed to it.
  function wsHandler(this: FastifyInstance, socket: WebSocket, request: FastifyRequest): void {
    const early: [data: unknown, isBinary: boolean][] = [];
    const keep = (data: unknown, isBinary: boolean): void => void early.push([data, isBinary]);
    socket.on('message', keep);
    load().then(
      (loaded) => {
        socket.off('message', keep);
        if (socket.readyState !== socket.OPEN) return;
        loaded.ws.call(this, socket, request);
        for (const [data, isBinary] of early) socket.emit('message', data, isBinary);
      },
      (error: unknown) => {
        container.logger.error('graphql: cannot start the GraphQL server', { error: String(error) });
        socket.close(1011, 'Internal server error');
      },
    );
  }

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
