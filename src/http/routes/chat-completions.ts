import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { dispatchOf } from '../../app/chat-service.js';
import type { AppContainer } from '../../app/container.js';
import type { ChatRequest } from '../../core/chat.js';
import { newCompletionId } from '../../core/ids.js';
import { RequestAbort } from '../../core/request-abort.js';
import type { RouteOptions } from '../../routing/route-options.js';
import { ChunkEncoder } from '../../streaming/chunk-encoder.js';
import { writeChatStream } from '../chat-stream-writer.js';
import { sendRawError } from '../error-mapper.js';
import { parseChatRequest } from '../schemas/parse-chat-request.js';
import { withUsageCost } from '../../streaming/usage-cost.js';
import { completionContext } from '../completion-context.js';
import { dispatchHeaders } from './dispatch-headers.js';
import { abortOnClientClose } from '../client-closed.js';

function withCost(json: string, costUsd: number | undefined): string {
  return costUsd === undefined ? json : withUsageCost(json, costUsd);
}

/** `POST /v1/chat/completions` and its OpenRouter twin `POST /api/v1/chat/completions`. */
export function registerChatCompletions(app: FastifyInstance, container: AppContainer): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const started = performance.now();
    const { chat, route } = parseChatRequest(request.body);
    const abort = new RequestAbort();
    if (chat.stream) {
      await streamCompletion(request, reply, container, chat, route, abort, started);
      return;
    }
    abortOnClientClose(reply.raw, abort);
    const dispatched = await container.completions
      .complete(chat, completionContext(request, 'chat', abort.signal, route))
      .catch((error: unknown) => {
        // An error answer says what was tried too; the error mapper adds its status, body and Retry-After.
        const tried = dispatchOf(error);
        if (tried) reply.headers(dispatchHeaders(tried, undefined, started));
        throw error;
      });
    const { result, metering } = dispatched;
    reply.headers(metering.headers);
    reply.headers(dispatchHeaders(dispatched, result.response.model, started));
    reply.header('content-type', 'application/json; charset=utf-8');
    await reply.send(withCost(result.raw ?? JSON.stringify(result.response), metering.costUsd));
  };
  app.post('/v1/chat/completions', handler);
  app.post('/api/v1/chat/completions', handler);
  app.post('/chat/completions', handler);
}

async function streamCompletion(
  request: FastifyRequest,
  reply: FastifyReply,
  container: AppContainer,
  chat: ChatRequest,
  route: RouteOptions,
  abort: RequestAbort,
  started: number,
): Promise<void> {
  const { dispatch, stream, metering } = await container.completions.stream(chat, completionContext(request, 'chat', abort.signal, route));
  const encoder = new ChunkEncoder({
    id: newCompletionId(),
    model: chat.model,
    created: Math.floor(Date.now() / 1000),
    includeUsage: chat.stream_options?.include_usage === true,
  });
  reply.hijack();
  try {
    await writeChatStream({
      response: reply.raw,
      stream,
      encoder,
      headers: () => ({ ...metering.headers, ...dispatchHeaders(dispatch, undefined, started), 'x-request-id': request.id }),
      pendingHeaders: () => ({ ...metering.headers, 'x-cb-provider': 'pending', 'x-request-id': request.id }),
      keepAliveIntervalMs: container.config.server.keepAliveIntervalMs,
      abort,
      requestId: request.id,
      logger: container.logger,
      redact: container.redact,
    });
  } catch (error) {
    // Failed before the first byte: answer with a normal JSON error on the raw response.
    sendRawError(reply.raw, error, request.id, container.logger, container.redact, dispatchHeaders(dispatch, undefined, started));
  }
}
