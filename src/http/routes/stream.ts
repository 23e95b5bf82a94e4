import type { FastifyInstance } from 'fastify';
import type { AppContainer } from '../../app/container.js';
import type { Authenticated } from '../../auth/key-authenticator.js';
import { defaultStreamLimits, StreamConnection } from '../stream/stream-connection.js';
import type { StreamLimits } from '../stream/stream-connection.js';
import { isLoopback } from '../access-guard.js';

/**
 * `GET /stream` (WebSocket): the seed's streaming protocol (docs/streaming.md). The key comes in the
 * handshake (`Authorization: Bearer …` or `x-api-key`) or, for browsers that cannot set headers, as a
 * first `{type: 'auth', key}` message; never in the URL, which ends up in logs. Must be registered after
 * `@fastify/websocket`.
 */
export function registerStream(app: FastifyInstance, container: AppContainer, limits: StreamLimits = defaultStreamLimits): void {
  app.get('/stream', { websocket: true, config: { access: 'open' } }, (socket, request) => {
    const connection = new StreamConnection(socket, container, request.id, limits);
    const authorization = request.headers.authorization;
    const bearer = authorization ? /^Bearer\s+(.+)$/i.exec(authorization.trim())?.[1]?.trim() : undefined;
    const apiKey = request.headers['x-api-key'];
    const presented = bearer ?? (Array.isArray(apiKey) ? apiKey[0] : apiKey);
    const loopback = isLoopback(request.socket.remoteAddress);
    const handshake = async (): Promise<{ auth: Authenticated } | { error: unknown } | 'pending'> => {
      if (presented === undefined && !(loopback && (await container.authenticator.anonymousAllowed()))) return 'pending';
      try {
        return { auth: await container.authenticator.authenticate(presented, loopback) };
      } catch (error) {
        return { error };
      }
    };
    void connection.start(handshake());
    socket.on('message', (data, isBinary) => void connection.receive(isBinary ? '' : data.toString()));
    socket.on('close', () => connection.closeAll());
  });
}
