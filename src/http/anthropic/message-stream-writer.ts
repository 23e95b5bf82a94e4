import type { ServerResponse } from 'node:http';
import { ErrorCode, GatewayError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Redact } from '../../core/redact.js';
import type { Abortable } from '../../core/request-abort.js';
import { isContentPart } from '../../core/stream-part.js';
import type { StreamPart } from '../../core/stream-part.js';
import type { AnthropicEventEncoder } from '../../streaming/anthropic-event-encoder.js';
import { sseComment, sseEvent, sseHeaders } from '../../streaming/sse-frames.js';
import { anthropicError } from './anthropic-error.js';

export interface WriteMessageStreamOptions {
  response: ServerResponse;
  /** Decoded parts (no `raw-chunks`). */
  stream: AsyncIterable<StreamPart>;
  encoder: AnthropicEventEncoder;
  /** Evaluated when the headers go out (the deployment may change until the first content). */
  headers: () => Record<string, string>;
  /** Sent instead when a keep-alive must send the headers before the commit point; `headers()`'s `x-cb-*` then follow as an SSE comment. */
  pendingHeaders: () => Record<string, string>;
  keepAliveIntervalMs: number;
  /** Aborted when the client goes away, which cancels the upstream request. */
  abort: Abortable;
  requestId: string;
  logger: Logger;
  redact: Redact;
}

/** Anthropic's keep-alive event. */
const ping = sseEvent('ping', '{"type":"ping"}');

/**
 * Writes a stream as Anthropic Messages SSE events, with the same contract as the OpenAI writer: nothing
 * is sent before the first content part (the commit point), so an earlier failure is thrown and answered
 * as a clean HTTP error; a silence longer than the keep-alive interval sends the headers (routing
 * `pending`) and a `ping` event, and further pings while the upstream stays silent; after the commit
 * point a failure ends the stream with an `event: error` frame, never a silent cut; a client that leaves
 * aborts the upstream request; writes wait for `drain`, so a slow client slows the upstream read.
 */
export async function writeMessageStream(options: WriteMessageStreamOptions): Promise<'completed' | 'failed' | 'client_closed'> {
  const { response, encoder, abort } = options;
  let headersSent = false;
  let routingPending = false;
  let committed = false;
  let held = '';
  let lastWrite = Date.now();
  let clientGone = false;

  const onClose = (): void => {
    if (response.writableFinished) return;
    clientGone = true;
    abort.abort(new GatewayError(ErrorCode.invalidRequest, 'The client closed the connection.', { status: 499 }));
  };
  response.on('close', onClose);
  const sendHeaders = (early: boolean): void => {
    if (headersSent) return;
    headersSent = true;
    routingPending = early;
    response.writeHead(200, { ...sseHeaders, ...(early ? options.pendingHeaders() : options.headers()) });
  };
  const routingFacts = (): string => {
    if (!routingPending) return '';
    routingPending = false;
    const facts = Object.entries(options.headers()).filter(([name]) => name.startsWith('x-cb-'));
    return sseComment(facts.map(([name, value]) => `${name}=${value}`));
  };
  const write = async (text: string): Promise<void> => {
    lastWrite = Date.now();
    if (response.write(text) || clientGone) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        response.off('drain', done);
        response.off('close', done);
        resolve();
      };
      response.on('drain', done);
      response.on('close', done);
    });
  };
  const keepAlive = setInterval(
    () => {
      if (Date.now() - lastWrite < options.keepAliveIntervalMs || clientGone) return;
      sendHeaders(true);
      lastWrite = Date.now();
      response.write(ping);
    },
    Math.max(50, Math.floor(options.keepAliveIntervalMs / 2)),
  );
  keepAlive.unref();

  try {
    for await (const part of options.stream) {
      const text = encoder.encode(part).join('');
      if (committed) {
        if (text) await write(text);
        continue;
      }
      held += text;
      if (isContentPart(part)) {
        committed = true;
        sendHeaders(false);
        await write(routingFacts() + held);
        held = '';
      }
    }
    sendHeaders(false);
    response.end(routingFacts() + held + encoder.finish().join(''));
    return 'completed';
  } catch (error) {
    if (clientGone) {
      response.destroy();
      return 'client_closed';
    }
    if (!headersSent) throw error;
    const mapped = anthropicError(error, options.requestId, options.logger, options.redact);
    response.end(routingFacts() + sseEvent('error', JSON.stringify(mapped.body)));
    return 'failed';
  } finally {
    clearInterval(keepAlive);
    response.off('close', onClose);
  }
}
