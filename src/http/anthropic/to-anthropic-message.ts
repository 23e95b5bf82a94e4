import type { ChatResponse } from '../../core/chat.js';
import { newMessageId, newToolUseId } from '../../core/ids.js';
import { fromOpenAIUsage } from '../../core/usage.js';
import type { Usage } from '../../core/usage.js';
import { anthropicStopReason, toAnthropicUsage } from '../../streaming/anthropic-stop-reason.js';
import type { AnthropicStopReason, AnthropicUsage } from '../../streaming/anthropic-stop-reason.js';

export type AnthropicContentBlock =
  { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

/** An Anthropic `message` object, as `POST /v1/messages` answers it. */
export interface AnthropicMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicContentBlock[];
  stop_reason: AnthropicStopReason;
  stop_sequence: null;
  usage: AnthropicUsage;
}

/**
 * An OpenAI `chat.completion` → an Anthropic `message`: the first choice's text (or refusal) as one text
 * block, then one `tool_use` block per tool call with its arguments parsed (arguments that are not a
 * JSON object are kept under `_raw`, so nothing is lost); finish reason and usage mapped. The id is the
 * upstream's when it already is a `msg_` id.
 */
export function toAnthropicMessage(response: ChatResponse, usage: Usage | undefined, requestedModel: string): AnthropicMessage {
  const choice = response.choices[0];
  const message = choice?.message;
  const content: AnthropicContentBlock[] = [];
  const text = typeof message?.content === 'string' && message.content !== '' ? message.content : (message?.refusal ?? '');
  if (text) content.push({ type: 'text', text });
  const calls =
    message?.tool_calls ?? (message?.function_call ? [{ id: '', type: 'function' as const, function: message.function_call }] : []);
  for (const call of calls)
    content.push({ type: 'tool_use', id: call.id || newToolUseId(), name: call.function.name, input: toolInput(call.function.arguments) });
  return {
    id: response.id.startsWith('msg_') ? response.id : newMessageId(),
    type: 'message',
    role: 'assistant',
    model: response.model || requestedModel,
    content,
    stop_reason: anthropicStopReason(choice?.finish_reason, calls.length > 0),
    stop_sequence: null,
    usage: toAnthropicUsage(usage ?? (response.usage ? fromOpenAIUsage(response.usage) : undefined)),
  };
}

/** A tool call's arguments as the `input` object Anthropic clients expect. */
export function toolInput(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // not JSON: kept as text below
  }
  return { _raw: text };
}
