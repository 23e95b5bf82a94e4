import type { FastifyInstance } from 'fastify';
import type { AppContainer } from '../../app/container.js';
import { describeModel, listModels, toOpenRouterModel } from '../../app/model-listing.js';

/** `GET /v1/models`, `GET /v1/models/{id}` (ids may contain `/`), and OpenRouter's `GET /api/v1/models`. */
export function registerModels(app: FastifyInstance, container: AppContainer): void {
  app.get('/v1/models', async () => ({ object: 'list', data: listModels(container.catalog) }));
  app.get<{ Params: { '*': string } }>('/v1/models/*', async (request) =>
    describeModel(container.catalog, decodeURIComponent(request.params['*'])),
  );
  app.get('/api/v1/models', async () => ({ data: container.catalog.all().map(toOpenRouterModel) }));
}
