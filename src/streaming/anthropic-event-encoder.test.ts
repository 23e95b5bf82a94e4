import { describe, expect, it } from 'vitest';
import type { StreamPart } from '../core/stream-part.js';
import { validateMessageStream } from '../../test/support/anthropic-stream-validator.js';
import { AnthropicEventEncoder } from './anthropic-event-encoder.js';

const newEncoder = () => new AnthropicEventEncoder({ id: 'msg_gateway', model: 'requested' });

function encode(parts: StreamPart[], encoder = newEncoder()): string {
  let body = '';
  for (const part of parts) body += encoder.encode(part).join('');
  return body + encoder.finish().join('');
}

/** The event names (and block indexes) of some frames, for order assertions. */
function names(frames: string): string[] {
  return [...frames.matchAll(/^data: (.+)$/gm)].map((match) => {
    const data = JSON.parse(match[1]!) as { type: string; index?: number; delta?: { type: string } };
    return data.index === undefined ? data.type : `${data.type}#${data.index}${data.delta ? `:${data.delta.type}` : ''}`;
  });
}

const parallel: StreamPart[] = [
  { type: 'response-meta', id: 'chatcmpl-1', model: 'gpt-4o-2024-08-06' },
  { type: 'text-delta', choice: 0, text: 'Let me ' },
  { type: 'text-delta', choice: 0, text: 'check.' },
  { type: 'tool-call-start', choice: 0, index: 0, id: 'call_a', name: 'weather' },
  { type: 'tool-call-delta', choice: 0, index: 0, argumentsDelta: '{"city":' },
  { type: 'tool-call-start', choice: 0, index: 1, id: 'call_b', name: 'time' },
  { type: 'tool-call-delta', choice: 0, index: 1, argumentsDelta: '{"tz":' },
  // a fragment of the first call after the second started: the first call is still open and takes it
  { type: 'tool-call-delta', choice: 0, index: 0, argumentsDelta: '"Paris"}' },
  { type: 'tool-call-delta', choice: 0, index: 1, argumentsDelta: '"CET"}' },
  { type: 'usage', usage: { promptTokens: 100, completionTokens: 12, cachedTokens: 60, cacheWriteTokens: 10 } },
  { type: 'finish', choice: 0, reason: 'tool_calls' },
];

describe('AnthropicEventEncoder', () => {
  it('turns text and parallel tool calls with interleaved fragments into a valid stream, blocks in order', () => {
    const stream = validateMessageStream(encode(parallel));
    expect(stream.blocks).toEqual([
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: 'call_a', name: 'weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 'call_b', name: 'time', input: { tz: 'CET' } },
    ]);
    expect(stream.stopReason).toBe('tool_use');
    // the upstream id is no msg_ id: the gateway's stays; the answering model is named
    expect(stream).toMatchObject({ id: 'msg_gateway', model: 'gpt-4o-2024-08-06' });
    // input_tokens excludes the cache reads and writes, which Anthropic counts apart
    expect(stream.usage).toEqual({ input_tokens: 30, output_tokens: 12, cache_read_input_tokens: 60, cache_creation_input_tokens: 10 });
  });

  it('streams the open tool call live and holds a later one, with its fragments in order, until the first closes', () => {
    const encoder = newEncoder();
    expect(names(encoder.encode(parallel[3]!).join(''))).toEqual(['message_start', 'content_block_start#0']);
    expect(names(encoder.encode(parallel[4]!).join(''))).toEqual(['content_block_delta#0:input_json_delta']);
    expect(encoder.encode(parallel[5]!)).toEqual([]);
    expect(encoder.encode(parallel[6]!)).toEqual([]);
    expect(names(encoder.encode(parallel[7]!).join(''))).toEqual(['content_block_delta#0:input_json_delta']);
    expect(encoder.encode(parallel[8]!)).toEqual([]);
    expect(names(encoder.finish().join(''))).toEqual([
      'content_block_stop#0',
      'content_block_start#1',
      'content_block_delta#1:input_json_delta',
      'content_block_delta#1:input_json_delta',
      'content_block_stop#1',
      'message_delta',
      'message_stop',
    ]);
  });

  it('opens a new text block for text after tool calls, flushing held calls first', () => {
    const stream = validateMessageStream(
      encode([
        { type: 'tool-call-start', choice: 0, index: 0, id: 'toolu_1', name: 'a' },
        { type: 'tool-call-start', choice: 0, index: 1, id: 'toolu_2', name: 'b' },
        { type: 'tool-call-delta', choice: 0, index: 1, argumentsDelta: '{"n":2}' },
        { type: 'text-delta', choice: 0, text: 'done' },
        { type: 'finish', choice: 0, reason: 'stop' },
      ]),
    );
    expect(stream.blocks.map((block) => block.type)).toEqual(['tool_use', 'tool_use', 'text']);
    expect(stream.blocks[1]).toMatchObject({ input: { n: 2 } });
    // `stop` with tool calls: Anthropic clients run tools only on tool_use
    expect(stream.stopReason).toBe('tool_use');
  });

  it.each([
    ['length', 'max_tokens'],
    ['content_filter', 'refusal'],
    ['stop', 'end_turn'],
  ] as const)('maps finish_reason %s to stop_reason %s', (reason, expected) => {
    const body = encode([
      { type: 'text-delta', choice: 0, text: 'x' },
      { type: 'finish', choice: 0, reason },
    ]);
    expect(validateMessageStream(body).stopReason).toBe(expected);
  });

  it('keeps an upstream msg_ id, and ends an empty answer with a valid stream', () => {
    const stream = validateMessageStream(encode([{ type: 'response-meta', id: 'msg_upstream', model: 'claude-x' }]));
    expect(stream).toMatchObject({ id: 'msg_upstream', model: 'claude-x', blocks: [], stopReason: 'end_turn' });
    expect(stream.usage).toMatchObject({ input_tokens: 0, output_tokens: 0 });
  });

  it('ignores empty text and other choices, and refuses fragments of a call that never started', () => {
    const encoder = newEncoder();
    expect(encoder.encode({ type: 'text-delta', choice: 0, text: '' })).toEqual([]);
    expect(encoder.encode({ type: 'text-delta', choice: 1, text: 'other choice' })).toEqual([]);
    expect(() => encoder.encode({ type: 'tool-call-delta', choice: 0, index: 3, argumentsDelta: '{}' })).toThrow(/never started/);
    expect(() => encoder.encode({ type: 'raw-chunks', chunks: ['{}'], hasContent: true })).toThrow(/undecoded/);
  });

  it('refuses a fragment for a call whose block later text closed, rather than dropping it', () => {
    const encoder = newEncoder();
    encoder.encode({ type: 'tool-call-start', choice: 0, index: 0, id: 'toolu_1', name: 'a' });
    encoder.encode({ type: 'text-delta', choice: 0, text: 'then text' });
    expect(() => encoder.encode({ type: 'tool-call-delta', choice: 0, index: 0, argumentsDelta: '{}' })).toThrow(/closed by later text/);
  });
});
