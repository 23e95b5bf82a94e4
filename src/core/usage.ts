import type { OpenAIUsage } from './chat.js';

/** Token counts of one completion, by token class, so each class can be priced. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens read from the provider's prompt cache (included in promptTokens). */
  cachedTokens?: number;
  /** Prompt tokens written to the provider's prompt cache (Anthropic; included in promptTokens). */
  cacheWriteTokens?: number;
  /** Reasoning/thinking tokens (included in completionTokens). */
  reasoningTokens?: number;
}

export function toOpenAIUsage(usage: Usage): OpenAIUsage {
  const result: OpenAIUsage = {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
  if (usage.cachedTokens !== undefined) result.prompt_tokens_details = { cached_tokens: usage.cachedTokens };
  if (usage.reasoningTokens !== undefined) result.completion_tokens_details = { reasoning_tokens: usage.reasoningTokens };
  return result;
}

export function fromOpenAIUsage(usage: OpenAIUsage): Usage {
  const result: Usage = { promptTokens: usage.prompt_tokens ?? 0, completionTokens: usage.completion_tokens ?? 0 };
  const cached = usage.prompt_tokens_details?.cached_tokens;
  if (typeof cached === 'number') result.cachedTokens = cached;
  const reasoning = usage.completion_tokens_details?.reasoning_tokens;
  if (typeof reasoning === 'number') result.reasoningTokens = reasoning;
  return result;
}
