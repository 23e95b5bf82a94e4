import fastifyWebsocket from '@fastify/websocket';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { AppContainer } from '../app/container.js';
import { ErrorCode } from '../core/errors.js';
import { newRequestId } from '../core/ids.js';
import { createAccessGuard } from './access-guard.js';
import { mapError } from './error-mapper.js';
import { registerChatCompletions } from './routes/chat-completions.js';
import { registerEmbeddings } from './routes/embeddings.js';
import { registerMessages } from './routes/messages.js';
import { registerHealth } from './routes/health.js';
import { registerModels } from './routes/models.js';
import { registerAdminKeys } from './routes/admin-keys.js';
import { registerMetrics } from './routes/metrics.js';
import { registerRouting } from './routes/routing.js';
import { registerUsage } from './routes/usage.js';
import { registerWorkflows } from './routes/workflows.js';
import { registerAgents } from './routes/agents.js';
import { registerFunctions } from './routes/functions.js';
import { registerRules } from './routes/rules.js';
import { registerStream } from './routes/stream.js';
import { registerGraphQL } from '../graphql/register-graphql.js';

function noSchemaCompiler(): never {
  throw new Error('Fastify route schemas are not used in this server: validate the body with zod (src/http/validate.ts).');
}

/**
 * Builds the HTTP front door: Fastify (chosen by measurement, docs/adr/0001-http-framework.md) with the
 * OpenAI-compatible routes, OpenRouter's `/api/v1` twins, health and readiness, and one error mapper.
 * Every response carries `x-request-id` (the client's own, when it sent a sane one).
 */
export function buildServer(container: AppContainer): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: container.config.server.bodyLimitBytes,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : newRequestId();
    },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    keepAliveTimeout: 65_000,
    forceCloseConnections: 'idle',
    // No route has a Fastify schema (bodies are validated with zod, src/http/validate.ts): Fastify's Ajv and
    // fast-json-stringify compilers, ~30 ms of start-up to load, are never loaded; a route given one fails at start.
    schemaController: { compilersFactory: { buildValidator: noSchemaCompiler, buildSerializer: noSchemaCompiler } },
  });

  const guard = createAccessGuard(container.authenticator, { metricsPublic: container.config.metrics.public });
  app.decorateRequest('auth', undefined as never);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    await guard(request, reply);
  });

  app.setErrorHandler((error, request, reply) => {
    const mapped = mapError(error, request.id, container.logger, container.redact);
    void reply.code(mapped.status).headers(mapped.headers).send(mapped.body);
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({
      error: {
        message: `There is no route ${request.method} ${request.url.split('?')[0]}. The OpenAI-compatible API is under /v1 (e.g. POST /v1/chat/completions, GET /v1/models); OpenRouter's paths under /api/v1.`,
        type: 'not_found_error',
        param: null,
        code: ErrorCode.notFound,
      },
    });
  });

  registerHealth(app, container);
  registerModels(app, container);
  registerChatCompletions(app, container);
  registerEmbeddings(app, container);
  registerMessages(app, container);
  registerRouting(app, container);
  registerAdminKeys(app, container);
  registerUsage(app, container);
  registerWorkflows(app, container);
  registerFunctions(app, container);
  registerAgents(app, container);
  registerRules(app, container);
  registerMetrics(app, container.metrics);
  // WebSocket front doors: GraphQL (graphql-transport-ws on /graphql, with its HTTP and SSE routes) and /stream.
  void app.register(fastifyWebsocket, { options: { maxPayload: container.config.server.bodyLimitBytes } });
  void app.register(async (scope) => {
    registerGraphQL(scope, container);
    registerStream(scope, container);
  });
  return app;
}
