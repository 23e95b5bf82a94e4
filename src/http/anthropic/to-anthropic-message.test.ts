import { describe, expect, it } from 'vitest';
import type { ChatResponse } from '../../core/chat.js';
import { toAnthropicMessage, toolInput } from './to-anthropic-message.js';

function completion(message: ChatResponse['choices'][number]['message'], finish: ChatResponse['choices'][number]['finish_reason']) {
  const response: ChatResponse = {
    id: 'chatcmpl-abc',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o-2024-08-06',
    choices: [{ index: 0, message, finish_reason: finish }],
    usage: { prompt_tokens: 50, completion_tokens: 7, total_tokens: 57, prompt_tokens_details: { cached_tokens: 20 } },
  };
  return response;
}

describe('toAnthropicMessage (chat.completion → Anthropic message)', () => {
  it('maps text, parallel tool calls, finish reason and usage (cache reads counted apart)', () => {
    const message = toAnthropicMessage(
      completion(
        {
          role: 'assistant',
          content: 'Checking both.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
          ],
        },
        'tool_calls',
      ),
      undefined,
      'gpt-4o',
    );
    expect(message).toEqual({
      id: expect.stringMatching(/^msg_[\w-]{24}$/),
      type: 'message',
      role: 'assistant',
      model: 'gpt-4o-2024-08-06',
      content: [
        { type: 'text', text: 'Checking both.' },
        { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'call_2', name: 'weather', input: { city: 'Oslo' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 30, output_tokens: 7, cache_read_input_tokens: 20, cache_creation_input_tokens: 0 },
    });
  });

  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['content_filter', 'refusal'],
  ] as const)('maps finish_reason %s to %s', (finish, stop) => {
    expect(toAnthropicMessage(completion({ role: 'assistant', content: 'x' }, finish), undefined, 'm').stop_reason).toBe(stop);
  });

  it('prefers the adapter usage, keeps a msg_ id, gives a tool call without id one, and says a refusal as text', () => {
    const response = {
      ...completion({ role: 'assistant', content: null, refusal: 'I cannot help with that.' }, 'content_filter'),
      id: 'msg_up',
    };
    const message = toAnthropicMessage(response, { promptTokens: 9, completionTokens: 3, cacheWriteTokens: 4 }, 'm');
    expect(message).toMatchObject({
      id: 'msg_up',
      content: [{ type: 'text', text: 'I cannot help with that.' }],
      stop_reason: 'refusal',
      usage: { input_tokens: 5, output_tokens: 3, cache_creation_input_tokens: 4, cache_read_input_tokens: 0 },
    });
    const noId = toAnthropicMessage(
      completion(
        { role: 'assistant', content: null, tool_calls: [{ id: '', type: 'function', function: { name: 'f', arguments: '' } }] },
        'stop',
      ),
      undefined,
      'm',
    );
    expect(noId.content).toEqual([{ type: 'tool_use', id: expect.stringMatching(/^toolu_/), name: 'f', input: {} }]);
    expect(noId.stop_reason).toBe('tool_use');
  });

  it('keeps tool arguments that are not a JSON object under _raw rather than losing them', () => {
    expect(toolInput('{"a":1}')).toEqual({ a: 1 });
    expect(toolInput('[1,2]')).toEqual({ _raw: '[1,2]' });
    expect(toolInput('{"cut')).toEqual({ _raw: '{"cut' });
  });
});
