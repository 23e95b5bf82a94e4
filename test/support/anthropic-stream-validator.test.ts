import { describe, expect, it } from 'vitest';
import { anthropicDialect } from '../emulators/anthropic-dialect.js';
import { resolveReply } from '../emulators/scenario.js';
import { validateMessageStream } from './anthropic-stream-validator.js';

/** The validator itself: it accepts Anthropic's stream as Anthropic sends it, and names each rule a stream breaks. */
const event = (type: string, fields: Record<string, unknown> = {}) => `event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`;
const start = event('message_start', {
  message: {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-x',
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 0, output_tokens: 0 },
  },
});
const textStart = (index: number) => event('content_block_start', { index, content_block: { type: 'text', text: '' } });
const toolStart = (index: number, id: string) =>
  event('content_block_start', { index, content_block: { type: 'tool_use', id, name: 'get_weather', input: {} } });
const text = (index: number, value: string) => event('content_block_delta', { index, delta: { type: 'text_delta', text: value } });
const json = (index: number, value: string) =>
  event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: value } });
const stop = (index: number) => event('content_block_stop', { index });
const delta = (reason: string) =>
  event('message_delta', { delta: { stop_reason: reason, stop_sequence: null }, usage: { input_tokens: 7, output_tokens: 3 } });

const good = [
  start,
  textStart(0),
  event('ping'),
  text(0, 'Let me '),
  text(0, 'check.'),
  stop(0),
  toolStart(1, 'toolu_a'),
  json(1, '{"city":'),
  json(1, '"Paris"}'),
  stop(1),
  toolStart(2, 'toolu_b'),
  stop(2),
  delta('tool_use'),
  event('message_stop'),
];
const body = (frames: string[]) => frames.join('');

describe('validateMessageStream', () => {
  it('accepts a well-formed stream and assembles blocks, stop reason and usage', () => {
    const result = validateMessageStream(body([': x-cb-provider=anthropic\n\n', ...good]));
    expect(result.text).toBe('Let me check.');
    expect(result.blocks.slice(1)).toEqual([
      { type: 'tool_use', id: 'toolu_a', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 'toolu_b', name: 'get_weather', input: {} },
    ]);
    expect(result).toMatchObject({ id: 'msg_1', model: 'claude-x', stopReason: 'tool_use', pings: 1 });
    expect(result.usage).toMatchObject({ input_tokens: 7, output_tokens: 3 });
  });

  it("accepts the Anthropic emulator's own streams (the real API's shape), text and parallel tools", () => {
    const dialect = anthropicDialect();
    const reply = resolveReply(
      {
        text: 'hi there',
        toolCalls: [
          { name: 'a', arguments: { x: 1 } },
          { name: 'b', arguments: { y: 'two' } },
        ],
      },
      'anthropic',
      'q',
      'claude-x',
      'toolu_',
    );
    const result = validateMessageStream(body(dialect.streamFrames(reply, {})));
    expect(result.text).toBe('hi there');
    expect(result.blocks.filter((block) => block.type === 'tool_use').map((block) => block.input)).toEqual([{ x: 1 }, { y: 'two' }]);
  });

  it.each([
    ['a block before message_start', [textStart(0), ...good.slice(1)], /before message_start/],
    [
      'blocks that interleave',
      [start, textStart(0), toolStart(1, 'toolu_a'), stop(1), stop(0), delta('tool_use'), event('message_stop')],
      /while block 0 is open/,
    ],
    ['a skipped block index', [start, textStart(1), stop(1), delta('end_turn'), event('message_stop')], /expected 0/],
    [
      'a delta for a closed block',
      [start, textStart(0), stop(0), text(0, 'late'), delta('end_turn'), event('message_stop')],
      /not the open block/,
    ],
    [
      'a text delta in a tool block',
      [start, toolStart(0, 'toolu_a'), text(0, 'x'), stop(0), delta('tool_use'), event('message_stop')],
      /text_delta in a tool_use/,
    ],
    [
      'fragments that are not JSON',
      [start, toolStart(0, 'toolu_a'), json(0, '{"a":'), stop(0), delta('tool_use'), event('message_stop')],
      /JSON/,
    ],
    [
      'tool calls with stop_reason end_turn',
      [start, toolStart(0, 'toolu_a'), stop(0), delta('end_turn'), event('message_stop')],
      /but stop_reason end_turn/,
    ],
    [
      'tool_use with no tool call',
      [start, textStart(0), text(0, 'x'), stop(0), delta('tool_use'), event('message_stop')],
      /without a tool_use block/,
    ],
    ['no message_stop', good.slice(0, -1), /without message_stop/],
    ['message_delta with a block open', [start, textStart(0), delta('end_turn'), event('message_stop')], /while block 0 is open/],
    ['a frame without an event line', [start, `data: ${JSON.stringify({ type: 'ping' })}\n\n`, ...good.slice(1)], /"event:" line/],
    [
      'a data type that differs from the event name',
      [start, `event: ping\ndata: {"type":"message_stop"}\n\n`, ...good.slice(1)],
      /breaks its schema/,
    ],
    ['an event after message_stop', [...good, event('ping')], /after message_stop/],
    ['an error event', [start, textStart(0), event('error', { error: { type: 'api_error', message: 'boom' } })], /the stream failed/],
  ])('rejects %s', (_name, frames, message) => {
    expect(() => validateMessageStream(body(frames))).toThrow(message);
  });

  it('with allowError, returns a final error event, and rejects one that is not last', () => {
    const failed = [start, textStart(0), text(0, 'part'), event('error', { error: { type: 'overloaded_error', message: 'Overloaded' } })];
    expect(validateMessageStream(body(failed), { allowError: true })).toMatchObject({
      text: 'part',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
    expect(() => validateMessageStream(body([...failed, stop(0)]), { allowError: true })).toThrow(/followed by more events/);
  });
});
