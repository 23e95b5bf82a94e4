import type { FastifyInstance } from 'fastify';
import type { AppContainer } from '../../app/container.js';

/** `GET /health` (the process answers) and `GET /ready` (store open and providers initialised). */
export function registerHealth(app: FastifyInstance, container: AppContainer): void {
  app.get('/health', { config: { access: 'open' } }, async () => ({
    status: 'ok',
    service: 'circuit-breaker',
    version: container.version,
  }));
  app.get('/ready', { config: { access: 'open' } }, async (_request, reply) => {
    const readiness = await container.readiness();
    reply.code(readiness.ready ? 200 : 503);
    return readiness;
  });
}
