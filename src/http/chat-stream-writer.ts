import type { ServerResponse } from 'node:http';
import { ErrorCode, GatewayError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Redact } from '../core/redact.js';
import type { Abortable } from '../core/request-abort.js';
import { isContentPart } from '../core/stream-part.js';
import type { StreamPart } from '../core/stream-part.js';
import type { Usage } from '../core/usage.js';
import type { ChunkEncoder } from '../streaming/chunk-encoder.js';
import { sseComment, sseData, sseDone, sseFrames, sseHeaders, sseKeepAlive } from '../streaming/sse-frames.js';
import { mapError } from './error-mapper.js';

export interface StreamOutcome {
  usage: Usage | undefined;
  /** How the stream ended: completed, failed after headers were sent, or the client left. */
  status: 'completed' | 'failed' | 'client_closed';
  error?: unknown;
}

export interface WriteStreamOptions {
  response: ServerResponse;
  stream: AsyncIterable<StreamPart>;
  encoder: ChunkEncoder;
  /** Evaluated when the headers go out (the deployment may change until the first content). */
  headers: () => Record<string, string>;
  /**
   * The headers to send instead when a keep-alive has to send them before the commit point, while the
   * stream may still fail over (e.g. `x-cb-provider: pending`). The final `x-cb-*` values of `headers()`
   * then follow as one SSE comment frame (`: x-cb-provider=…`, one line each) at the commit point, or
   * just before the error event or the end. Absent: `headers()` is sent early as it stands.
   */
  pendingHeaders?: () => Record<string, string>;
  keepAliveIntervalMs: number;
  /** Aborting it cancels the upstream request (done when the client goes away). */
  abort: Abortable;
  requestId: string;
  logger: Logger;
  redact: Redact;
}

/**
 * Writes a provider stream to the client as OpenAI SSE.
 *
 * Nothing is sent until the first content part arrives (the commit point): a failure before it is thrown
 * to the caller, which can still answer with a proper HTTP error (or, later, try another provider). If
 * the upstream is silent longer than the keep-alive interval before that, the headers go out with a
 * keep-alive comment so the client does not time out; they then say the routing is pending, and the
 * final routing facts follow as an SSE comment once known. After the commit point an upstream failure ends
 * the stream with an SSE error event — never a silent truncation. A client that disconnects aborts the
 * upstream request. Writes respect back-pressure: a slow client slows the upstream read, it does not
 * grow a buffer.
 */
export async function writeChatStream(options: WriteStreamOptions): Promise<StreamOutcome> {
  const { response, stream, encoder, abort } = options;
  let headersSent = false;
  let routingPending = false;
  let committed = false;
  let pending = '';
  let lastWrite = Date.now();
  let clientGone = false;

  const onClose = (): void => {
    if (!response.writableFinished) {
      clientGone = true;
      abort.abort(new GatewayError(ErrorCode.invalidRequest, 'The client closed the connection.', { status: 499 }));
    }
  };
  response.on('close', onClose);
  const sendHeaders = (early: boolean): void => {
    if (headersSent) return;
    headersSent = true;
    routingPending = early && options.pendingHeaders !== undefined;
    response.writeHead(200, {
      ...sseHeaders,
      ...(routingPending && options.pendingHeaders ? options.pendingHeaders() : options.headers()),
    });
  };
  /** The routing facts the early headers could not carry, once (empty when the headers carried them). */
  const routingFacts = (): string => {
    if (!routingPending) return '';
    routingPending = false;
    const facts = Object.entries(options.headers()).filter(([name]) => name.startsWith('x-cb-'));
    return sseComment(facts.map(([name, value]) => `${name}=${value}`));
  };
  const write = async (text: string): Promise<void> => {
    lastWrite = Date.now();
    if (!response.write(text) && !clientGone) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          response.off('drain', done);
          response.off('close', done);
          resolve();
        };
        response.on('drain', done);
        response.on('close', done);
      });
    }
  };
  const keepAlive = setInterval(
    () => {
      if (Date.now() - lastWrite < options.keepAliveIntervalMs || clientGone) return;
      sendHeaders(true);
      lastWrite = Date.now();
      response.write(sseKeepAlive);
    },
    Math.max(50, Math.floor(options.keepAliveIntervalMs / 2)),
  );
  keepAlive.unref();

  try {
    for await (const part of stream) {
      const text = sseFrames(encoder.encode(part));
      if (committed) {
        if (text) await write(text);
        continue;
      }
      pending += text;
      if (isContentPart(part)) {
        committed = true;
        sendHeaders(false);
        await write(routingFacts() + pending);
        pending = '';
      }
    }
    sendHeaders(false);
    let closing = routingFacts() + pending;
    closing += sseFrames(encoder.finish());
    response.end(closing + sseDone);
    return { usage: encoder.reportedUsage, status: 'completed' };
  } catch (error) {
    if (clientGone) {
      response.destroy();
      return { usage: encoder.reportedUsage, status: 'client_closed' };
    }
    if (!headersSent) throw error;
    const mapped = mapError(error, options.requestId, options.logger, options.redact);
    response.end(routingFacts() + sseData(JSON.stringify(mapped.body)));
    return { usage: encoder.reportedUsage, status: 'failed', error };
  } finally {
    clearInterval(keepAlive);
    response.off('close', onClose);
  }
}
