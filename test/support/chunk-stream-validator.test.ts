import { describe, expect, it } from 'vitest';
import { validateChunkStream } from './chunk-stream-validator.js';

/** The validator itself: it accepts OpenAI's stream as OpenAI sends it, and names each rule a stream breaks. */
const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1_732_000_000, model: 'gpt-4o' };
const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => `data: ${JSON.stringify({ ...base, choices, ...extra })}\n\n`;
const delta = (value: Record<string, unknown>, finish: string | null = null) => [{ index: 0, delta: value, finish_reason: finish }];
const usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };
const call = (index: number, id?: string, name?: string, args = '') => ({
  index,
  ...(id ? { id, type: 'function' } : {}),
  function: { ...(name ? { name } : {}), arguments: args },
});

const good = [
  chunk(delta({ role: 'assistant', content: '' })),
  chunk(delta({ content: 'Hi' })),
  chunk(delta({ tool_calls: [call(0, 'call_a', 'get_weather')] })),
  chunk(delta({ tool_calls: [call(0, undefined, undefined, '{"city":')] })),
  chunk(delta({ tool_calls: [call(0, undefined, undefined, '"Paris"}')] })),
  chunk(delta({ tool_calls: [call(1, 'call_b', 'get_time', '{}')] })),
  chunk(delta({}, 'tool_calls')),
  chunk([], { usage }),
  ': keep-alive\n\n',
  'data: [DONE]\n\n',
];
const stream = (frames: string[]) => frames.join('');

describe('validateChunkStream', () => {
  it('accepts a well-formed stream and assembles text, tool calls, finish reasons and usage', () => {
    const result = validateChunkStream(stream(good), { includeUsage: true });
    expect(result.text).toEqual(['Hi']);
    expect(result.toolCalls[0]).toEqual([
      { id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { id: 'call_b', name: 'get_time', arguments: '{}' },
    ]);
    expect(result.finishReasons).toEqual(['tool_calls']);
    expect(result.usage).toEqual(usage);
  });

  it('rejects a stream whose first delta has no role', () => {
    expect(() => validateChunkStream(stream([chunk(delta({ content: 'Hi' })), ...good.slice(1)]))).toThrow(
      /first delta of choice 0 has no role/,
    );
  });

  it('rejects a tool call whose index changes (a skipped index) or whose id changes', () => {
    const skipped = [...good];
    skipped[5] = chunk(delta({ tool_calls: [call(2, 'call_b', 'get_time', '{}')] }));
    expect(() => validateChunkStream(stream(skipped))).toThrow(/tool call index 2 skips \(expected 1\)/);
    const renamed = [...good];
    renamed[4] = chunk(delta({ tool_calls: [{ index: 0, id: 'call_z', function: { arguments: '"Paris"}' } }] }));
    expect(() => validateChunkStream(stream(renamed))).toThrow(/tool call 0:0 changed its id/);
  });

  it('rejects a stream without a finish chunk', () => {
    expect(() => validateChunkStream(stream(good.filter((_, index) => index !== 6)))).toThrow(/choice 0 never got a finish_reason/);
  });

  it('rejects a usage chunk that is not last, and usage alongside choices', () => {
    const early = [...good.slice(0, 6), chunk([], { usage }), good[6]!, 'data: [DONE]\n\n'];
    expect(() => validateChunkStream(stream(early))).toThrow(/comes after the usage-only chunk/);
    const mixed = [...good.slice(0, 6), chunk(delta({}, 'tool_calls'), { usage }), 'data: [DONE]\n\n'];
    expect(() => validateChunkStream(stream(mixed))).toThrow(/carries usage alongside choices/);
  });

  it('rejects a stream that does not end with [DONE] (a silent truncation)', () => {
    expect(() => validateChunkStream(stream(good.slice(0, -1)))).toThrow(/does not end with data: \[DONE\]/);
  });

  it('checks include_usage both ways, and the chunk schema', () => {
    const withoutUsage = good.filter((_, index) => index !== 7);
    expect(() => validateChunkStream(stream(withoutUsage), { includeUsage: true })).toThrow(/no usage-only chunk came/);
    expect(() => validateChunkStream(stream(good), { includeUsage: false })).toThrow(/although include_usage was not asked for/);
    const wrongObject = [chunk(delta({ role: 'assistant' }), { object: 'chat.completion' }), ...good.slice(1)];
    expect(() => validateChunkStream(stream(wrongObject))).toThrow(/breaks the chunk schema/);
  });
});
