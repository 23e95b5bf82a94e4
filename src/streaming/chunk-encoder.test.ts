import { describe, expect, it } from 'vitest';
import type { StreamPart } from '../core/stream-part.js';
import { validateChunkStream } from '../../test/support/chunk-stream-validator.js';
import { ChunkEncoder } from './chunk-encoder.js';

function encode(parts: StreamPart[], includeUsage: boolean): string {
  const encoder = new ChunkEncoder({ id: 'chatcmpl-test', model: 'requested', created: 1700000000, includeUsage });
  let body = '';
  for (const part of parts) for (const json of encoder.encode(part)) body += `data: ${json}\n\n`;
  for (const json of encoder.finish()) body += `data: ${json}\n\n`;
  return `${body}data: [DONE]\n\n`;
}

const toolParts: StreamPart[] = [
  { type: 'response-meta', id: 'msg_1', model: 'claude-x' },
  { type: 'text-delta', choice: 0, text: 'Let me check.' },
  { type: 'tool-call-start', choice: 0, index: 0, id: 'toolu_1', name: 'weather' },
  { type: 'tool-call-delta', choice: 0, index: 0, argumentsDelta: '{"city":' },
  { type: 'tool-call-start', choice: 0, index: 1, id: 'toolu_2', name: 'time' },
  { type: 'tool-call-delta', choice: 0, index: 0, argumentsDelta: '"Paris"}' },
  { type: 'tool-call-delta', choice: 0, index: 1, argumentsDelta: '{}' },
  { type: 'usage', usage: { promptTokens: 10, completionTokens: 5, cachedTokens: 2 } },
  { type: 'finish', choice: 0, reason: 'tool_calls' },
];

describe('ChunkEncoder', () => {
  it('produces a stream that passes the OpenAI chunk validator, with the role first and stable tool indexes', () => {
    const stream = validateChunkStream(encode(toolParts, true), { includeUsage: true });
    expect(stream.chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: 'Let me check.' });
    expect(stream.chunks[0]?.model).toBe('claude-x');
    expect(stream.chunks[0]?.id).toBe('msg_1');
    expect(stream.toolCalls[0]).toEqual([
      { id: 'toolu_1', name: 'weather', arguments: '{"city":"Paris"}' },
      { id: 'toolu_2', name: 'time', arguments: '{}' },
    ]);
    expect(stream.finishReasons).toEqual(['tool_calls']);
    expect(stream.usage).toEqual({
      prompt_tokens: 10,
      completion_tokens: 5,
      total_tokens: 15,
      prompt_tokens_details: { cached_tokens: 2 },
    });
  });

  it('leaves the usage chunk out unless the client asked for it', () => {
    validateChunkStream(encode(toolParts, false), { includeUsage: false });
  });

  it('gives a role to a stream whose first part is a tool call', () => {
    const stream = validateChunkStream(
      encode(
        [
          { type: 'tool-call-start', choice: 0, index: 0, id: 'c', name: 'f' },
          { type: 'finish', choice: 0, reason: 'tool_calls' },
        ],
        false,
      ),
    );
    expect(stream.chunks[0]?.choices[0]?.delta.role).toBe('assistant');
  });

  it('forwards raw chunks and the upstream usage chunk as they are', () => {
    const encoder = new ChunkEncoder({ id: 'x', model: 'm', created: 1, includeUsage: true });
    expect(encoder.encode({ type: 'raw-chunks', chunks: ['{"raw":1}', '{"raw":2}'], hasContent: true })).toEqual([
      '{"raw":1}',
      '{"raw":2}',
    ]);
    encoder.encode({ type: 'usage', usage: { promptTokens: 1, completionTokens: 1 }, json: '{"usage":"as-is"}' });
    expect(encoder.finish()).toEqual(['{"usage":"as-is"}']);
  });
});
