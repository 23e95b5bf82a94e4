import type { ChatResponse, ToolCall } from '../../core/chat.js';
import { toOpenAIUsage } from '../../core/usage.js';
import type { Usage } from '../../core/usage.js';
import { isRecord } from '../shared/json.js';
import { malformedUpstream } from '../shared/upstream-error.js';
import { jsonSchemaToolName } from './convert-request.js';
import { mapAnthropicStopReason } from './map-finish-reason.js';

/** Anthropic usage → internal usage: cache reads and writes are prompt tokens too. */
export function anthropicUsage(usage: unknown, outputTokens?: number): Usage {
  const record = isRecord(usage) ? usage : {};
  const number = (key: string): number => (typeof record[key] === 'number' ? (record[key] as number) : 0);
  const cached = number('cache_read_input_tokens');
  const written = number('cache_creation_input_tokens');
  const result: Usage = {
    promptTokens: number('input_tokens') + cached + written,
    completionTokens: outputTokens ?? number('output_tokens'),
  };
  if (cached > 0) result.cachedTokens = cached;
  if (written > 0) result.cacheWriteTokens = written;
  return result;
}

/** An Anthropic `message` → OpenAI `chat.completion`. */
export function fromAnthropicMessage(provider: string, body: unknown, jsonViaTool: boolean): { response: ChatResponse; usage: Usage } {
  if (!isRecord(body) || !Array.isArray(body['content'])) throw malformedUpstream(provider, 'the message has no `content` array');
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const block of body['content'] as unknown[]) {
    if (!isRecord(block)) continue;
    if (block['type'] === 'text' && typeof block['text'] === 'string') text += block['text'];
    if (block['type'] === 'tool_use') {
      const input = JSON.stringify(block['input'] ?? {});
      if (jsonViaTool && block['name'] === jsonSchemaToolName) text += input;
      else toolCalls.push({ id: String(block['id']), type: 'function', function: { name: String(block['name']), arguments: input } });
    }
  }
  const usage = anthropicUsage(body['usage']);
  let finish = mapAnthropicStopReason(body['stop_reason'] as string | undefined);
  if (jsonViaTool && finish === 'tool_calls' && toolCalls.length === 0) finish = 'stop';
  const response: ChatResponse = {
    id: typeof body['id'] === 'string' ? body['id'] : 'msg_unknown',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: typeof body['model'] === 'string' ? body['model'] : '',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text === '' && toolCalls.length > 0 ? null : text,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: finish,
        logprobs: null,
      },
    ],
    usage: toOpenAIUsage(usage),
  };
  return { response, usage };
}
