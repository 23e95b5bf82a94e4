import type { FinishReason } from '../../core/chat.js';

const filtered = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'LANGUAGE']);

/** Gemini `finishReason` → OpenAI `finish_reason` (`tool_calls` when the candidate called functions). */
export function mapGeminiFinishReason(reason: string | undefined, hasToolCalls: boolean): FinishReason {
  if (reason === 'MAX_TOKENS') return 'length';
  if (reason !== undefined && filtered.has(reason)) return 'content_filter';
  return hasToolCalls ? 'tool_calls' : 'stop';
}
