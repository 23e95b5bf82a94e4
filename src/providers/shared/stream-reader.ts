import { StringDecoder } from 'node:string_decoder';
import type { UpstreamClient, UpstreamResponse } from './upstream-client.js';
import { NdjsonParser } from './ndjson-parser.js';
import { SseParser } from './sse-parser.js';
import type { SseEvent } from './sse-parser.js';

/**
 * Reads an upstream body as SSE events. Transport failures while reading (reset, idle timeout) become
 * `ProviderError`s; leaving the loop early closes the body as `BodyReader.close` says (dumped to keep the
 * connection, or destroyed, which cancels the upstream request, when the call was aborted).
 */
export async function* readSseEvents(response: UpstreamResponse, client: UpstreamClient, signal: AbortSignal): AsyncGenerator<SseEvent> {
  for await (const batch of readSseEventBatches(response, client, signal)) for (const event of batch) yield event;
}

/**
 * The same events in the batches one network read completes (never empty): a hot loop that handles
 * each event synchronously pays one async step per read instead of one per event.
 */
export function readSseEventBatches(response: UpstreamResponse, client: UpstreamClient, signal: AbortSignal): AsyncGenerator<SseEvent[]> {
  return batchesOf(sseReader(response, client, signal));
}

/** Reads an upstream body as newline-delimited JSON lines (unparsed), with the same guarantees. */
export async function* readNdjsonLines(response: UpstreamResponse, client: UpstreamClient, signal: AbortSignal): AsyncGenerator<string> {
  const parser = new NdjsonParser();
  const reader = new BodyReader(
    response,
    client,
    signal,
    (text) => parser.push(text),
    () => parser.end(),
  );
  for await (const batch of batchesOf(reader)) for (const line of batch) yield line;
}

/**
 * A body read one network read at a time, each read's text turned into items by `push` (and the rest by
 * `end` when the body ends): a plain object, so a caller that maps items to parts synchronously can build
 * its own iterator — one promise per read instead of a stack of async generators. Transport failures
 * (reset, idle timeout) become `ProviderError`s.
 */
export class BodyReader<T> {
  private readonly reads: AsyncIterator<Uint8Array>;
  // StringDecoder keeps a split multi-byte character for the next read, like TextDecoder's `stream: true`,
  // at a fraction of its cost per read (TextDecoder goes through an ICU converter).
  private readonly decoder = new StringDecoder('utf8');
  private finished = false;
  private closed = false;

  constructor(
    private readonly response: UpstreamResponse,
    private readonly client: UpstreamClient,
    private readonly signal: AbortSignal,
    private readonly push: (text: string) => T[],
    private readonly end: () => T[],
  ) {
    // destroyOnReturn: false — leaving early must not destroy the body (that builds an AbortError with a
    // stack trace per stream and can close the keep-alive connection); `close` decides.
    this.reads = (response.body.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  }

  /** The items one read completed (possibly none); `undefined` once the body has ended. */
  async read(): Promise<T[] | undefined> {
    if (this.finished) return undefined;
    let next: IteratorResult<Uint8Array>;
    try {
      next = await this.reads.next();
    } catch (error) {
      this.close();
      throw this.client.transportError(error, this.signal);
    }
    if (!next.done) return this.push(this.decoder.write(next.value as Buffer));
    this.finished = true;
    const rest = this.decoder.end();
    return [...(rest ? this.push(rest) : []), ...this.end()];
  }

  /**
   * Done with the body. Left before its end: after the stream's last event (`[DONE]`, `message_stop`…)
   * the rest is usually just the end of the body, so it is dumped and the connection kept for reuse; a
   * cancelled or endless body is destroyed.
   */
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

/** A `BodyReader` of SSE events. */
export function sseReader(response: UpstreamResponse, client: UpstreamClient, signal: AbortSignal): BodyReader<SseEvent> {
  const parser = new SseParser();
  return new BodyReader(
    response,
    client,
    signal,
    (text) => parser.push(text),
    () => parser.end(),
  );
}

/** A `BodyReader`'s non-empty batches as an async generator (for decoders that yield per event anyway). */
async function* batchesOf<T>(reader: BodyReader<T>): AsyncGenerator<T[]> {
  try {
    for (let items = await reader.read(); items !== undefined; items = await reader.read()) if (items.length > 0) yield items;
  } finally {
    reader.close();
  }
}
