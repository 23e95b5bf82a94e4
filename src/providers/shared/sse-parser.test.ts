import { describe, expect, it } from 'vitest';
import { SseParser } from './sse-parser.js';
import { NdjsonParser } from './ndjson-parser.js';

function feed(text: string, sizes: number[]): { event: string; data: string; id?: string }[] {
  const parser = new SseParser();
  const events = [];
  let offset = 0;
  let turn = 0;
  while (offset < text.length) {
    const size = sizes[turn++ % sizes.length] ?? 1;
    events.push(...parser.push(text.slice(offset, offset + size)));
    offset += size;
  }
  events.push(...parser.end());
  return events;
}

describe('SseParser', () => {
  const stream =
    'event: message_start\ndata: {"a":1}\n\n: keep-alive\n\ndata: line one\ndata: line two\nid: 7\n\ndata: {"b":"\u00e9"}\r\n\r\ndata:no-space\n\n';

  it('parses events, comments, multi-line data, ids and CRLF', () => {
    expect(feed(stream, [stream.length])).toEqual([
      { event: 'message_start', data: '{"a":1}' },
      { event: 'message', data: 'line one\nline two', id: '7' },
      // The last event id persists until changed (WHATWG "last event ID buffer").
      { event: 'message', data: '{"b":"\u00e9"}', id: '7' },
      { event: 'message', data: 'no-space', id: '7' },
    ]);
  });

  it('gives the same events whatever the chunk boundaries', () => {
    const whole = feed(stream, [stream.length]);
    for (const sizes of [[1], [2, 3], [7, 1, 4], [5]]) expect(feed(stream, sizes)).toEqual(whole);
  });

  it('parses an LF-only stream (the fast path) the same whole or cut anywhere, keeping the tail for the next chunk', () => {
    const lfOnly = 'data: {"n":1}\n\n: ping\n\nevent: done\ndata: a\ndata: b\n\ndata: [DONE]\n\n';
    const expected = [
      { event: 'message', data: '{"n":1}' },
      { event: 'done', data: 'a\nb' },
      { event: 'message', data: '[DONE]' },
    ];
    for (const sizes of [[lfOnly.length], [1], [3], [6, 2], [11]]) expect(feed(lfOnly, sizes)).toEqual(expected);
    const parser = new SseParser();
    expect(parser.push('data: par')).toEqual([]);
    expect(parser.push('tial\n\n')).toEqual([{ event: 'message', data: 'partial' }]);
  });

  it('splits CRLF across chunks without an extra empty line', () => {
    const parser = new SseParser();
    expect(parser.push('data: x\r')).toEqual([]);
    expect(parser.push('\n\r')).toEqual([{ event: 'message', data: 'x' }]);
    expect(parser.push('\ndata: y\n\n')).toEqual([{ event: 'message', data: 'y' }]);
  });

  it('delivers a last event that lacks its blank line at the end', () => {
    expect(feed('data: tail', [3])).toEqual([{ event: 'message', data: 'tail' }]);
  });
});

describe('NdjsonParser', () => {
  it('returns complete lines across chunk boundaries and the tail at the end', () => {
    const parser = new NdjsonParser();
    expect(parser.push('{"a":1}\n{"b"')).toEqual(['{"a":1}']);
    expect(parser.push(':2}\n\n')).toEqual(['{"b":2}']);
    expect(parser.push('{"c":3}')).toEqual([]);
    expect(parser.end()).toEqual(['{"c":3}']);
  });
});
