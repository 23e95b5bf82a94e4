import type { ChatResponse, FinishReason, ToolCall } from '../../core/chat.js';
import { newCompletionId, newToolCallId } from '../../core/ids.js';
import { toOpenAIUsage } from '../../core/usage.js';
import type { Usage } from '../../core/usage.js';
import { isRecord } from '../shared/json.js';
import { malformedUpstream } from '../shared/upstream-error.js';

/** Ollama `done_reason` → OpenAI finish reason (`tool_calls` when the answer calls tools). */
export function mapOllamaDoneReason(reason: unknown, hasToolCalls: boolean): FinishReason {
  if (reason === 'length') return 'length';
  return hasToolCalls ? 'tool_calls' : 'stop';
}

export function ollamaUsage(body: Record<string, unknown>): Usage {
  return {
    promptTokens: typeof body['prompt_eval_count'] === 'number' ? body['prompt_eval_count'] : 0,
    completionTokens: typeof body['eval_count'] === 'number' ? body['eval_count'] : 0,
  };
}

export function ollamaToolCalls(message: Record<string, unknown>): ToolCall[] {
  const calls = Array.isArray(message['tool_calls']) ? message['tool_calls'] : [];
  return calls.flatMap((call): ToolCall[] => {
    const fn = isRecord(call) && isRecord(call['function']) ? call['function'] : undefined;
    if (!fn || typeof fn['name'] !== 'string') return [];
    const args = fn['arguments'];
    return [
      {
        id: newToolCallId(),
        type: 'function',
        function: { name: fn['name'], arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}) },
      },
    ];
  });
}

export function createdOf(body: Record<string, unknown>): number {
  const parsed = typeof body['created_at'] === 'string' ? Date.parse(body['created_at']) : NaN;
  return Math.floor((Number.isNaN(parsed) ? Date.now() : parsed) / 1000);
}

/** A non-streamed Ollama `/api/chat` answer → OpenAI `chat.completion`. */
export function fromOllamaResponse(provider: string, body: unknown, requestedModel: string): { response: ChatResponse; usage: Usage } {
  if (!isRecord(body) || !isRecord(body['message'])) throw malformedUpstream(provider, 'the answer has no `message`');
  const message = body['message'];
  const toolCalls = ollamaToolCalls(message);
  const content = typeof message['content'] === 'string' ? message['content'] : '';
  const usage = ollamaUsage(body);
  return {
    usage,
    response: {
      id: newCompletionId(),
      object: 'chat.completion',
      created: createdOf(body),
      model: typeof body['model'] === 'string' ? body['model'] : requestedModel,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: content === '' && toolCalls.length > 0 ? null : content,
            ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          },
          finish_reason: mapOllamaDoneReason(body['done_reason'], toolCalls.length > 0),
          logprobs: null,
        },
      ],
      usage: toOpenAIUsage(usage),
    },
  };
}
