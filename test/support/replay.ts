import { NdjsonParser } from '../../src/providers/shared/ndjson-parser.js';
import { SseParser } from '../../src/providers/shared/sse-parser.js';
import type { SseEvent } from '../../src/providers/shared/sse-parser.js';

/** Splits text into pieces of 1–7 characters (seeded), the way a network might deliver it. */
export function pieces(text: string, seed = 7): string[] {
  const result: string[] = [];
  let state = seed;
  for (let offset = 0; offset < text.length;) {
    state = (state * 1103515245 + 12345) >>> 0;
    const size = 1 + ((state >>> 16) % 7);
    result.push(text.slice(offset, offset + size));
    offset += size;
  }
  return result;
}

/** Replays a raw SSE fixture through the incremental parser in small random pieces. */
export function sseEventsOf(text: string, seed?: number): SseEvent[] {
  const parser = new SseParser();
  const events = pieces(text, seed).flatMap((piece) => parser.push(piece));
  return [...events, ...parser.end()];
}

/** Replays a raw NDJSON fixture through the incremental splitter in small random pieces. */
export function ndjsonLinesOf(text: string, seed?: number): string[] {
  const parser = new NdjsonParser();
  const lines = pieces(text, seed).flatMap((piece) => parser.push(piece));
  return [...lines, ...parser.end()];
}
