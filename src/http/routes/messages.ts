import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { dispatchOf } from '../../app/chat-service.js';
import type { StreamDispatch } from '../../app/chat-service.js';
import type { AppContainer } from '../../app/container.js';
import { countPromptTokens } from '../../app/token-count.js';
import { newMessageId } from '../../core/ids.js';
import { RequestAbort } from '../../core/request-abort.js';
import { AnthropicEventEncoder } from '../../streaming/anthropic-event-encoder.js';
import { anthropicError, sendRawAnthropicError } from '../anthropic/anthropic-error.js';
import { decodeRawChunks } from '../anthropic/decode-raw-chunks.js';
import { writeMessageStream } from '../anthropic/message-stream-writer.js';
import { toAnthropicMessage } from '../anthropic/to-anthropic-message.js';
import { toChatRequest, toCountedRequest } from '../anthropic/to-chat-request.js';
import type { InboundMessages } from '../anthropic/to-chat-request.js';
import { completionContext } from '../completion-context.js';
import { dispatchHeaders } from './dispatch-headers.js';
import { abortOnClientClose } from '../client-closed.js';

/**
 * Anthropic's Messages API over the same router: `POST /v1/messages` (streamed or not) and
 * `POST /v1/messages/count_tokens`, also under `/anthropic` (for clients configured with a base URL
 * that has a path). Every error on these routes, the access guard's and the body parser's included,
 * is answered in Anthropic's shape; every answer carries Anthropic's `request-id` besides `x-request-id`.
 */
export function registerMessages(app: FastifyInstance, container: AppContainer): void {
  const errorHandler = (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const mapped = anthropicError(error, request.id, container.logger, container.redact);
    void reply.code(mapped.status).headers(mapped.headers).send(mapped.body);
  };
  const onRequest = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    reply.header('request-id', request.id);
  };

  const messages = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const started = performance.now();
    const inbound = toChatRequest(request.body);
    const abort = new RequestAbort();
    if (inbound.chat.stream) {
      await streamMessage(request, reply, container, inbound, abort, started);
      return;
    }
    abortOnClientClose(reply.raw, abort);
    const dispatched = await container.completions
      .complete(inbound.chat, completionContext(request, 'messages', abort.signal, inbound.route))
      .catch((error: unknown) => {
        const tried = dispatchOf(error);
        if (tried) reply.headers(headersOf(tried, inbound.warnings, undefined, started));
        throw error;
      });
    const { result, metering } = dispatched;
    const message = toAnthropicMessage(result.response, result.usage, inbound.chat.model);
    reply.headers(metering.headers);
    reply.headers(headersOf(dispatched, inbound.warnings, result.response.model, started));
    await reply.send(message);
  };

  const countTokens = async (request: FastifyRequest) => {
    const { chat, route } = toCountedRequest(request.body);
    return { input_tokens: await countPromptTokens(container.completions, chat, request.auth.principal, route) };
  };

  for (const prefix of ['', '/anthropic']) {
    app.post(`${prefix}/v1/messages`, { errorHandler, onRequest }, messages);
    app.post(`${prefix}/v1/messages/count_tokens`, { errorHandler, onRequest }, countTokens);
  }
}

async function streamMessage(
  request: FastifyRequest,
  reply: FastifyReply,
  container: AppContainer,
  inbound: InboundMessages,
  abort: RequestAbort,
  started: number,
): Promise<void> {
  const context = completionContext(request, 'messages', abort.signal, inbound.route);
  const { dispatch, stream, metering } = await container.completions.stream(inbound.chat, context).catch((error: unknown) => {
    const tried = dispatchOf(error);
    if (tried) reply.headers(headersOf(tried, inbound.warnings, undefined, started));
    throw error;
  });
  const identity = { 'x-request-id': request.id, 'request-id': request.id };
  reply.hijack();
  try {
    await writeMessageStream({
      response: reply.raw,
      stream: decodeRawChunks(stream, () => dispatch.deployment?.provider ?? 'upstream'),
      encoder: new AnthropicEventEncoder({ id: newMessageId(), model: inbound.chat.model }),
      headers: () => ({ ...metering.headers, ...headersOf(dispatch, inbound.warnings, undefined, started), ...identity }),
      pendingHeaders: () => ({ ...metering.headers, 'x-cb-provider': 'pending', ...identity }),
      keepAliveIntervalMs: container.config.server.keepAliveIntervalMs,
      abort,
      requestId: request.id,
      logger: container.logger,
      redact: container.redact,
    });
  } catch (error) {
    // Failed before the first byte: a normal Anthropic error answer on the raw response.
    sendRawAnthropicError(
      reply.raw,
      error,
      request.id,
      container.logger,
      container.redact,
      headersOf(dispatchOf(error) ?? dispatch, inbound.warnings, undefined, started),
    );
  }
}

/** The dispatch headers, with the warnings of the inbound conversion first. */
function headersOf(dispatch: StreamDispatch, warnings: readonly string[], model: string | undefined, started: number) {
  return dispatchHeaders({ ...dispatch, warnings: [...warnings, ...dispatch.warnings] }, model, started);
}
