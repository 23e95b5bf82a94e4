import type { UpstreamClient, UpstreamResponse } from './upstream-client.js';
import { NdjsonParser } from './ndjson-parser.js';
import { SseParser } from './sse-parser.js';
import type { SseEvent } from './sse-parser.js';

/**
 * Reads an upstream body as SSE events. Transport failures while reading (reset, idle timeout) become
 * `ProviderError`s; leaving the loop early destroys the body, which cancels the upstream request.
 */
export async function* readSseEvents(response: UpstreamResponse, client: UpstreamClient, signal: AbortSignal): AsyncGenerator<SseEvent> {
  const parser = new SseParser();
  yield* readText(
    response,
    client,
    signal,
    (text) => parser.push(text),
    () => parser.end(),
  );
}

/** Reads an upstream body as newline-delimited JSON lines (unparsed), with the same guarantees. */
export async function* readNdjsonLines(response: UpstreamResponse, client: UpstreamClient, signal: AbortSignal): AsyncGenerator<string> {
  const parser = new NdjsonParser();
  yield* readText(
    response,
    client,
    signal,
    (text) => parser.push(text),
    () => parser.end(),
  );
}

async function* readText<T>(
  response: UpstreamResponse,
  client: UpstreamClient,
  signal: AbortSignal,
  push: (text: string) => T[],
  end: () => T[],
): AsyncGenerator<T> {
  const body = response.body;
  const decoder = new TextDecoder();
  let finished = false;
  try {
    for await (const bytes of body as AsyncIterable<Uint8Array>) {
      for (const item of push(decoder.decode(bytes, { stream: true }))) yield item;
    }
    finished = true;
    const rest = decoder.decode();
    if (rest) for (const item of push(rest)) yield item;
    for (const item of end()) yield item;
  } catch (error) {
    throw client.transportError(error, signal);
  } finally {
    if (!finished) {
      // Left early: after the stream's last event (`[DONE]`, `message_stop`…) the rest is usually just the
      // end of the body, so dump it and keep the connection for reuse; a cancelled or endless body is destroyed.
      if (signal.aborted) body.destroy();
      else body.dump({ limit: 64 * 1024 }).catch(() => body.destroy());
    }
  }
}
