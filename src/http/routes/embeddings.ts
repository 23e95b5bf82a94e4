import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { dispatchOf } from '../../app/chat-service.js';
import type { AppContainer } from '../../app/container.js';
import { encodeEmbeddings } from '../../core/embeddings.js';
import type { EmbeddingRequest } from '../../core/embeddings.js';
import { RequestAbort } from '../../core/request-abort.js';
import { embeddingRequestSchema } from '../schemas/embedding-request-schema.js';
import { validateBody } from '../validate.js';
import { completionContext } from '../completion-context.js';
import { dispatchHeaders } from './dispatch-headers.js';

/** `POST /v1/embeddings` and `POST /api/v1/embeddings`. */
export function registerEmbeddings(app: FastifyInstance, container: AppContainer): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const started = performance.now();
    const body = validateBody(embeddingRequestSchema, request.body) as EmbeddingRequest;
    const abort = new RequestAbort();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    const dispatched = await container.completions
      .embed(body, completionContext(request, 'embeddings', abort.signal))
      .catch((error: unknown) => {
        const tried = dispatchOf(error);
        if (tried) reply.headers(dispatchHeaders(tried, undefined, started));
        throw error;
      });
    reply.headers(dispatched.metering.headers);
    reply.headers(dispatchHeaders(dispatched, dispatched.result.response.model, started));
    const response = encodeEmbeddings(dispatched.result.response, body.encoding_format);
    return dispatched.metering.costUsd === undefined
      ? response
      : { ...response, usage: { ...response.usage, cost: dispatched.metering.costUsd } };
  };
  app.post('/v1/embeddings', handler);
  app.post('/api/v1/embeddings', handler);
}
