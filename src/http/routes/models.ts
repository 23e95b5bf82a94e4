import type { FastifyInstance } from 'fastify';
import type { AppContainer } from '../../app/container.js';
import { describeModel, listModels, toOpenRouterModel } from '../../app/model-listing.js';
import { modelAllowed } from '../../core/principal.js';

/** `GET /v1/models`, `GET /v1/models/{id}` (ids may contain `/`), and OpenRouter's `GET /api/v1/models`. */
export function registerModels(app: FastifyInstance, container: AppContainer): void {
  // A key scoped to some models sees those only.
  app.get('/v1/models', async (request) => ({
    object: 'list',
    data: listModels(container.catalog).filter((entry) => modelAllowed(request.auth.principal.models, entry.id)),
  }));
  app.get<{ Params: { '*': string } }>('/v1/models/*', async (request) =>
    describeModel(container.catalog, decodeURIComponent(request.params['*'])),
  );
  app.get('/api/v1/models', async (request) => ({
    data: container.catalog
      .all()
      .map(toOpenRouterModel)
      .filter((entry) => modelAllowed(request.auth.principal.models, String(entry['id']))),
  }));
}
