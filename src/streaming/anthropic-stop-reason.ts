import type { FinishReason } from '../core/chat.js';
import type { Usage } from '../core/usage.js';

/** The Messages API's `stop_reason` values the gateway produces. */
export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'tool_use' | 'refusal';

/**
 * OpenAI `finish_reason` → Anthropic `stop_reason` (the reverse of the outbound codec's map). A `stop`
 * with tool calls becomes `tool_use`: Anthropic clients run tools only on that reason, and some backends
 * (or their OpenAI mapping) say `stop` after a call. `stop_sequence` is never produced: the backends'
 * `stop` does not say whether a stop sequence or the model ended the turn.
 */
export function anthropicStopReason(reason: FinishReason | null | undefined, hasToolCalls: boolean): AnthropicStopReason {
  switch (reason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return hasToolCalls ? 'tool_use' : 'end_turn';
    case 'content_filter':
      return 'refusal';
    case 'stop':
    case null:
    case undefined:
      return hasToolCalls ? 'tool_use' : 'end_turn';
  }
}

/** Anthropic's usage object: `input_tokens` excludes the cache reads and writes, which are counted apart. */
export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/** Internal usage (prompt tokens include cache reads and writes) → Anthropic's usage object. */
export function toAnthropicUsage(usage: Usage | undefined): AnthropicUsage {
  const cached = usage?.cachedTokens ?? 0;
  const written = usage?.cacheWriteTokens ?? 0;
  return {
    input_tokens: Math.max(0, (usage?.promptTokens ?? 0) - cached - written),
    output_tokens: usage?.completionTokens ?? 0,
    cache_creation_input_tokens: written,
    cache_read_input_tokens: cached,
  };
}
