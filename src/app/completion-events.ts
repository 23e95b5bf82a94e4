import type { FinishReason } from '../core/chat.js';
import type { StreamPart } from '../core/stream-part.js';
import type { Usage } from '../core/usage.js';
import { OpenAIChunkDecoder } from '../providers/shared/openai-chunk-parts.js';

/**
 * A completion stream as the event-shaped front doors (GraphQL `completionStream`, the `/stream`
 * WebSocket) need it: text pieces, whole tool calls (their argument fragments joined), the finish
 * reason and the metered usage. OpenAI-dialect `raw-chunks` parts are decoded here with the same decoder
 * the other OpenAI-compatible paths use.
 */
export type CompletionEvent =
  | { type: 'content'; text: string }
  | { type: 'tool_call'; id: string; name: string; arguments: string }
  | { type: 'finish'; reason: FinishReason }
  | { type: 'usage'; usage: Usage; costUsd: number | undefined };

/** Turns stream parts into completion events (first choice only: these doors ask for one). `provider` names the upstream in decode errors. */
export async function* completionEvents(stream: AsyncIterable<StreamPart>, provider: () => string): AsyncGenerator<CompletionEvent> {
  let decoder: OpenAIChunkDecoder | undefined;
  const calls = new Map<number, { id: string; name: string; arguments: string }>();
  const flushCalls = function* (): Generator<CompletionEvent> {
    for (const call of [...calls.entries()].sort(([a], [b]) => a - b).map(([, value]) => value))
      yield { type: 'tool_call', id: call.id, name: call.name, arguments: call.arguments };
    calls.clear();
  };
  for await (const outer of stream) {
    let parts: Iterable<StreamPart> = [outer];
    if (outer.type === 'raw-chunks') {
      const chunkDecoder = (decoder ??= new OpenAIChunkDecoder(provider()));
      parts = outer.chunks.flatMap((json) => chunkDecoder.decode(json));
    }
    for (const part of parts) {
      switch (part.type) {
        case 'text-delta':
          if (part.choice === 0 && part.text.length > 0) yield { type: 'content', text: part.text };
          break;
        case 'tool-call-start':
          if (part.choice === 0) calls.set(part.index, { id: part.id, name: part.name, arguments: '' });
          break;
        case 'tool-call-delta': {
          const call = part.choice === 0 ? calls.get(part.index) : undefined;
          if (call) call.arguments += part.argumentsDelta;
          break;
        }
        case 'finish':
          if (part.choice !== 0) break;
          yield* flushCalls();
          yield { type: 'finish', reason: part.reason };
          break;
        case 'usage':
          yield { type: 'usage', usage: part.usage, costUsd: part.costUsd };
          break;
        case 'response-meta':
        case 'raw-chunks':
          break;
      }
    }
  }
  yield* flushCalls();
}
