import type { ChatChunk, FinishReason } from '../../core/chat.js';
import { ErrorCode, ProviderError } from '../../core/errors.js';
import type { StreamPart } from '../../core/stream-part.js';
import { fromOpenAIUsage } from '../../core/usage.js';
import { isRecord } from './json.js';
import { malformedUpstream } from './upstream-error.js';

const finishReasons = new Set<string>(['stop', 'length', 'tool_calls', 'content_filter', 'function_call']);

/** Maps a finish reason from an OpenAI-compatible server to OpenAI's vocabulary (`eos` and friends → `stop`). */
export function mapOpenAIFinishReason(reason: string): FinishReason {
  if (finishReasons.has(reason)) return reason as FinishReason;
  if (reason === 'max_tokens' || reason === 'model_length') return 'length';
  if (reason === 'tool_call' || reason === 'function') return 'tool_calls';
  return 'stop';
}

/**
 * Turns the chunks of an OpenAI-compatible server into stream parts, repairing what such servers get
 * wrong: missing tool-call indexes, ids repeated on every delta, whole calls in one delta, usage attached
 * to a content chunk, chunks with no choices (Azure's prompt-filter results), unknown finish reasons.
 * One instance per stream: it remembers which tool calls have started.
 */
export class OpenAIChunkDecoder {
  private sentMeta = false;
  /** `${choice}:${upstreamIndex}` → our index for that choice's call. */
  private readonly toolIndexes = new Map<string, number>();
  private readonly nextToolIndex = new Map<number, number>();

  constructor(private readonly provider: string) {}

  decode(data: string): StreamPart[] {
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch (error) {
      throw malformedUpstream(this.provider, `a stream event is not JSON: ${JSON.stringify(data.slice(0, 80))}`, error);
    }
    if (!isRecord(chunk)) throw malformedUpstream(this.provider, 'a stream event is not a JSON object');
    if (chunk['error'] !== undefined) throw streamedError(this.provider, chunk['error']);
    const parts: StreamPart[] = [];
    // Azure's prompt-filter chunk has an empty id and model: wait for a chunk that names them.
    if (!this.sentMeta && (chunk['id'] || chunk['model'])) {
      this.sentMeta = true;
      const meta: StreamPart = { type: 'response-meta' };
      if (typeof chunk['id'] === 'string' && chunk['id']) meta.id = chunk['id'];
      if (typeof chunk['model'] === 'string' && chunk['model']) meta.model = chunk['model'];
      if (typeof chunk['created'] === 'number') meta.created = chunk['created'];
      parts.push(meta);
    }
    const choices = Array.isArray(chunk['choices']) ? (chunk['choices'] as ChatChunk['choices']) : [];
    for (let position = 0; position < choices.length; position++) {
      const choice = choices[position];
      if (!isRecord(choice)) continue;
      const index = typeof choice.index === 'number' ? choice.index : position;
      const delta = isRecord(choice.delta) ? choice.delta : {};
      if (typeof delta.content === 'string' && delta.content.length > 0) {
        parts.push({ type: 'text-delta', choice: index, text: delta.content });
      }
      if (Array.isArray(delta.tool_calls)) this.toolCalls(index, delta.tool_calls, parts);
      if (typeof choice.finish_reason === 'string') {
        parts.push({ type: 'finish', choice: index, reason: mapOpenAIFinishReason(choice.finish_reason) });
      }
    }
    const usage = chunk['usage'];
    if (isRecord(usage) && typeof usage['prompt_tokens'] === 'number') {
      parts.push({ type: 'usage', usage: fromOpenAIUsage(usage as never) });
    }
    return parts;
  }

  private toolCalls(choice: number, calls: unknown[], parts: StreamPart[]): void {
    for (let position = 0; position < calls.length; position++) {
      const call = calls[position];
      if (!isRecord(call)) continue;
      const upstreamIndex = typeof call['index'] === 'number' ? call['index'] : position;
      const key = `${choice}:${upstreamIndex}`;
      const fn = isRecord(call['function']) ? call['function'] : {};
      let index = this.toolIndexes.get(key);
      if (index === undefined) {
        index = this.nextToolIndex.get(choice) ?? 0;
        this.nextToolIndex.set(choice, index + 1);
        this.toolIndexes.set(key, index);
        const id = typeof call['id'] === 'string' && call['id'] ? call['id'] : `call_${choice}_${index}`;
        const name = typeof fn['name'] === 'string' ? fn['name'] : '';
        parts.push({ type: 'tool-call-start', choice, index, id, name });
      }
      const args = fn['arguments'];
      if (typeof args === 'string' && args.length > 0) {
        parts.push({ type: 'tool-call-delta', choice, index, argumentsDelta: args });
      } else if (isRecord(args)) {
        parts.push({ type: 'tool-call-delta', choice, index, argumentsDelta: JSON.stringify(args) });
      }
    }
  }
}

/** An error event inside an OpenAI-format stream (`data: {"error": …}`): the upstream gave up mid-way. */
export function streamedError(provider: string, error: unknown): ProviderError {
  const message = isRecord(error) && typeof error['message'] === 'string' ? error['message'] : String(error);
  return new ProviderError(ErrorCode.upstreamError, `Provider '${provider}' failed mid-stream: ${message}`, {
    status: 502,
    provider,
    upstreamMessage: message,
    isRetryable: true,
  });
}
