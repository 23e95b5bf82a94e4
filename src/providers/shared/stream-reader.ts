import { StringDecoder } from 'node:string_decoder';
import type { UpstreamClient, UpstreamResponse } from './upstream-client.js';
import { NdjsonParser } from './ndjson-parser.js';
import { SseParser } from './sse-parser.js';
import type { SseEvent } from './sse-parser.js';

/**
 * Reads an upstream body as SSE events. Transport failures while reading (reset, idle timeout) become
 * `ProviderError`s; leaving the loop early destroys the body, which cancels the upstream request.
 */
export async function* readSseEvents(response: UpstreamResponse, client: UpstreamClient, signal: AbortSignal): AsyncGenerator<SseEvent> {
  for await (const batch of readSseEventBatches(response, client, signal)) for (const event of batch) yield event;
}

/**
 * The same events in the batches one network read completes (never empty): a hot loop that handles
 * each event synchronously pays one async step per read instead of one per event.
 */
export function readSseEventBatches(response: UpstreamResponse, client: UpstreamClient, signal: AbortSignal): AsyncGenerator<SseEvent[]> {
  const parser = new SseParser();
  return readBatches(
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
  const batches = readBatches(
    response,
    client,
    signal,
    (text) => parser.push(text),
    () => parser.end(),
  );
  for await (const batch of batches) for (const line of batch) yield line;
}

async function* readBatches<T>(
  response: UpstreamResponse,
  client: UpstreamClient,
  signal: AbortSignal,
  push: (text: string) => T[],
  end: () => T[],
): AsyncGenerator<T[]> {
  const body = response.body;
  // StringDecoder keeps a split multi-byte character for the next read, like TextDecoder's `stream: true`,
  // at a fraction of its cost per read (TextDecoder goes through an ICU converter).
  const decoder = new StringDecoder('utf8');
  let finished = false;
  try {
    // destroyOnReturn: false — leaving the loop early must not destroy the body (that builds an AbortError
    // with a stack trace per stream and can close the keep-alive connection); `finally` decides below.
    for await (const bytes of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>) {
      const items = push(decoder.write(bytes as Buffer));
      if (items.length > 0) yield items;
    }
    finished = true;
    const rest = decoder.end();
    const last = [...(rest ? push(rest) : []), ...end()];
    if (last.length > 0) yield last;
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
