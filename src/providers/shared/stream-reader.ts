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

/**
 * An SSE body read one network read at a time, as a plain object: for a caller that maps events to parts
 * synchronously and builds its own iterator, so a part costs one promise per read instead of a stack of
 * async generators. Transport failures become `ProviderError`s, as with `readSseEventBatches`.
 */
export class SseReader {
  private readonly reads: AsyncIterator<Uint8Array>;
  // StringDecoder keeps a split multi-byte character for the next read (see readBatches).
  private readonly decoder = new StringDecoder('utf8');
  private readonly parser = new SseParser();
  private finished = false;
  private closed = false;

  constructor(
    private readonly response: UpstreamResponse,
    private readonly client: UpstreamClient,
    private readonly signal: AbortSignal,
  ) {
    // destroyOnReturn: false — leaving early must not destroy the body; `close` decides (see readBatches).
    this.reads = (response.body.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  }

  /** The events one read completed (possibly none); `undefined` once the body has ended. */
  async read(): Promise<SseEvent[] | undefined> {
    if (this.finished) return undefined;
    let next: IteratorResult<Uint8Array>;
    try {
      next = await this.reads.next();
    } catch (error) {
      this.close();
      throw this.client.transportError(error, this.signal);
    }
    if (!next.done) return this.parser.push(this.decoder.write(next.value as Buffer));
    this.finished = true;
    const rest = this.decoder.end();
    return [...(rest ? this.parser.push(rest) : []), ...this.parser.end()];
  }

  /** Done with the body: if it has not ended, the rest is dumped to keep the connection, or the body destroyed when cancelled. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.reads.return?.();
    if (this.finished) return;
    const body = this.response.body;
    if (this.signal.aborted) body.destroy();
    else body.dump({ limit: 64 * 1024 }).catch(() => body.destroy());
  }
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
