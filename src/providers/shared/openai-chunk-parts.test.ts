import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../core/errors.js';
import { OpenAIChunkDecoder } from './openai-chunk-parts.js';

const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices, ...extra });

describe('OpenAIChunkDecoder', () => {
  it('repairs tool calls without indexes, with repeated ids, and whole calls in one delta', () => {
    const decoder = new OpenAIChunkDecoder('vllm');
    const parts = [
      ...decoder.decode(chunk([{ index: 0, delta: { role: 'assistant', content: '' } }])),
      ...decoder.decode(chunk([{ index: 0, delta: { tool_calls: [{ id: 'a', function: { name: 'f', arguments: '{"x"' } }] } }])),
      ...decoder.decode(chunk([{ index: 0, delta: { tool_calls: [{ id: 'a', function: { arguments: ':1}' } }] } }])),
      ...decoder.decode(
        chunk([{ index: 0, delta: { tool_calls: [{ index: 1, id: 'b', function: { name: 'g', arguments: { y: 2 } } }] } }]),
      ),
      ...decoder.decode(
        chunk([{ index: 0, delta: {}, finish_reason: 'eos' }], { usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } }),
      ),
    ];
    expect(parts).toEqual([
      { type: 'response-meta', id: 'c1', model: 'm', created: 1 },
      { type: 'tool-call-start', choice: 0, index: 0, id: 'a', name: 'f' },
      { type: 'tool-call-delta', choice: 0, index: 0, argumentsDelta: '{"x"' },
      { type: 'tool-call-delta', choice: 0, index: 0, argumentsDelta: ':1}' },
      { type: 'tool-call-start', choice: 0, index: 1, id: 'b', name: 'g' },
      { type: 'tool-call-delta', choice: 0, index: 1, argumentsDelta: '{"y":2}' },
      { type: 'finish', choice: 0, reason: 'stop' },
      { type: 'usage', usage: { promptTokens: 3, completionTokens: 4 } },
    ]);
  });

  it('skips chunks without choices (Azure prompt filter results) and throws on error events', () => {
    const decoder = new OpenAIChunkDecoder('azure');
    expect(decoder.decode(JSON.stringify({ id: '', choices: [], prompt_filter_results: [] }))).toEqual([]);
    expect(() => decoder.decode('{"error":{"message":"overloaded"}}')).toThrow(ProviderError);
    expect(() => decoder.decode('{not json')).toThrow(/malformed/);
  });
});
