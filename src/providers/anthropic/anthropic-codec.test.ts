import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../core/chat.js';
import { ErrorCode, GatewayError, ProviderError } from '../../core/errors.js';
import type { StreamPart } from '../../core/stream-part.js';
import { startFixtureServer } from '../../../test/support/fixture-server.js';
import type { FixtureServer } from '../../../test/support/fixture-server.js';
import { sseEventsOf } from '../../../test/support/replay.js';
import { createAnthropicAdapter } from './anthropic-adapter.js';
import { AnthropicStreamDecoder } from './anthropic-stream-decoder.js';
import { toAnthropicRequest } from './convert-request.js';
import { fromAnthropicMessage } from './convert-response.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');
const png = 'data:image/png;base64,iVBORw0KGgo=';
const weather = {
  type: 'function' as const,
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

function decode(name: string, jsonViaTool = false, seed?: number): StreamPart[] {
  const decoder = new AnthropicStreamDecoder('anthropic', jsonViaTool);
  const parts = sseEventsOf(fixture(name), seed).flatMap((event) => decoder.decode(event));
  expect(decoder.complete).toBe(true);
  return parts;
}

describe('Anthropic request conversion', () => {
  const request: ChatRequest = {
    model: 'claude',
    messages: [
      { role: 'system', content: 'You are terse.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather in Paris and Oslo?', cache_control: { type: 'ephemeral' } },
          { type: 'image_url', image_url: { url: png } },
          { type: 'image_url', image_url: { url: 'https://example.com/a.jpg' } },
        ],
      },
      { role: 'developer', content: 'Use metric units.' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temp":12}' },
      { role: 'tool', tool_call_id: 'call_2', content: '{"temp":3}' },
      { role: 'user', content: 'Thanks' },
    ],
    tools: [weather],
    tool_choice: 'required',
    parallel_tool_calls: false,
    temperature: 1.5,
    stop: 'END',
    user: 'user-42',
    seed: 7,
    max_tokens: 300,
  };

  it('keeps every system message, merges turns, maps tools, images and parameters (snapshot)', () => {
    const plan = toAnthropicRequest(request, 'claude-3-5-sonnet-latest', true, 4096);
    expect(plan.body).toMatchSnapshot();
    expect(plan.body['system']).toEqual([
      { type: 'text', text: 'You are terse.' },
      { type: 'text', text: 'Use metric units.' },
    ]);
    expect(plan.warnings).toEqual([
      "temperature 1.5 was capped at 1, Anthropic's maximum",
      'seed is not supported by Anthropic and was dropped',
    ]);
  });

  it('turns json_schema into a forced tool and defaults max_tokens', () => {
    const plan = toAnthropicRequest(
      {
        model: 'c',
        messages: [{ role: 'user', content: 'x' }],
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'answer', schema: { type: 'object', properties: { answer: { type: 'number' } } } },
        },
      },
      'claude',
      false,
      4096,
    );
    expect(plan.body).toMatchSnapshot();
    expect(plan.jsonViaTool).toBe(true);
  });

  it('refuses n > 1 and broken tool arguments before anything is sent', () => {
    expect(() => toAnthropicRequest({ model: 'c', messages: [{ role: 'user', content: 'x' }], n: 2 }, 'c', false, 10)).toThrow(
      GatewayError,
    );
    const broken: ChatRequest = {
      model: 'c',
      messages: [{ role: 'assistant', tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{nope' } }] }],
    };
    expect(() => toAnthropicRequest(broken, 'c', false, 10)).toThrow(/JSON object string/);
  });

  it('keeps at most 4 cache_control breakpoints', () => {
    const parts = Array.from({ length: 6 }, (_, index) => ({
      type: 'text' as const,
      text: `p${index}`,
      cache_control: { type: 'ephemeral' as const },
    }));
    const plan = toAnthropicRequest({ model: 'c', messages: [{ role: 'user', content: parts }] }, 'c', false, 10);
    expect(JSON.stringify(plan.body).match(/cache_control/g)).toHaveLength(4);
    expect(plan.warnings[0]).toMatch(/2 cache_control breakpoint/);
  });
});

describe('Anthropic response conversion', () => {
  it('maps text, parallel tool_use and cache usage', () => {
    const { response, usage } = fromAnthropicMessage('anthropic', JSON.parse(fixture('message-tools.json')), false);
    expect(response.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        content: "I'll check the weather in both cities.",
        tool_calls: [
          { id: 'toolu_01A09q90qw90lq917835lq9', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'toolu_01B09q90qw90lq917835lq8', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
        ],
      },
    });
    expect(usage).toEqual({ promptTokens: 150, completionTokens: 50, cachedTokens: 30, cacheWriteTokens: 20 });
    expect(response.model).toBe('claude-3-5-sonnet-20241022');
  });
});

describe('Anthropic: max_tokens and json_schema answers', () => {
  it('stop_reason max_tokens is finish_reason length, plain and streamed', () => {
    const { response, usage } = fromAnthropicMessage('anthropic', JSON.parse(fixture('message-max-tokens.json')), false);
    expect(response.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: 'Once upon a' } });
    expect(usage).toMatchObject({ promptTokens: 12, completionTokens: 3 });
    const parts = decode('max-tokens.sse');
    expect(parts.filter((part) => part.type === 'text-delta')).toEqual([{ type: 'text-delta', choice: 0, text: 'Once upon a' }]);
    expect(parts.at(-1)).toEqual({ type: 'finish', choice: 0, reason: 'length' });
  });

  it('a non-streamed json_schema answer through the forced tool becomes the JSON text, with finish stop and no tool call', () => {
    const { response } = fromAnthropicMessage('anthropic', JSON.parse(fixture('message-json-schema.json')), true);
    const choice = response.choices[0];
    expect(JSON.parse(choice?.message.content ?? '')).toEqual({ answer: 42, unit: 'none' });
    expect(choice?.finish_reason).toBe('stop');
    expect(choice?.message.tool_calls).toBeUndefined();
    // without json_schema, the same block is an ordinary tool call
    const plain = fromAnthropicMessage('anthropic', JSON.parse(fixture('message-json-schema.json')), false).response.choices[0];
    expect(plain?.finish_reason).toBe('tool_calls');
    expect(plain?.message.tool_calls?.[0]?.function.name).toBe('json_response');
  });
});

describe('Anthropic stream decoding (fixtures fed in random pieces)', () => {
  it.each([1, 2, 3])('text with cached usage (seed %i)', (seed) => {
    expect(decode('text.sse', false, seed)).toEqual([
      { type: 'response-meta', id: 'msg_01XFDUDYJgAACzvnptvVoYEL', model: 'claude-3-5-sonnet-20241022' },
      { type: 'text-delta', choice: 0, text: 'Hello' },
      { type: 'text-delta', choice: 0, text: ', world é' },
      { type: 'usage', usage: { promptTokens: 35, completionTokens: 15, cachedTokens: 10 } },
      { type: 'finish', choice: 0, reason: 'stop' },
    ]);
  });

  it('parallel tool calls numbered 0 and 1 (not by block index), thinking dropped, fragments kept', () => {
    const parts = decode('parallel-tools.sse');
    expect(parts.filter((part) => part.type === 'tool-call-start')).toEqual([
      { type: 'tool-call-start', choice: 0, index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather' },
      { type: 'tool-call-start', choice: 0, index: 1, id: 'toolu_02T1x1fJ34qAmk2tNTrN7Up7', name: 'get_weather' },
    ]);
    const args = (index: number) =>
      parts
        .filter((part): part is Extract<StreamPart, { type: 'tool-call-delta' }> => part.type === 'tool-call-delta' && part.index === index)
        .map((part) => part.argumentsDelta)
        .join('');
    expect(JSON.parse(args(0))).toEqual({ city: 'Paris' });
    expect(JSON.parse(args(1))).toEqual({ city: 'Oslo' });
    expect(parts.filter((part) => part.type === 'text-delta')).toEqual([{ type: 'text-delta', choice: 0, text: 'Checking both.' }]);
    expect(parts.at(-1)).toEqual({ type: 'finish', choice: 0, reason: 'tool_calls' });
  });

  it('json_schema output through the forced tool becomes text with finish stop', () => {
    const parts = decode('json-schema.sse', true);
    const text = parts.flatMap((part) => (part.type === 'text-delta' ? [part.text] : [])).join('');
    expect(JSON.parse(text)).toEqual({ answer: 42 });
    expect(parts.at(-1)).toEqual({ type: 'finish', choice: 0, reason: 'stop' });
  });

  it('an overloaded error event is a retryable ProviderError', () => {
    const decoder = new AnthropicStreamDecoder('anthropic', false);
    let caught: unknown;
    try {
      for (const event of sseEventsOf(fixture('overloaded-mid-stream.sse'))) decoder.decode(event);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ProviderError);
    expect(caught).toMatchObject({ isRetryable: true, status: 503, upstreamMessage: 'Overloaded' });
  });
});

describe('Anthropic adapter over HTTP', () => {
  let server: FixtureServer;
  const adapter = () => createAnthropicAdapter({ name: 'anthropic', baseUrl: server.url });
  const call = (request: Partial<ChatRequest> = {}) => ({
    request: { model: 'claude', messages: [{ role: 'user' as const, content: 'hi' }], ...request },
    upstreamModel: 'claude-3-5-sonnet-latest',
    apiKey: 'sk-ant-test',
    signal: AbortSignal.timeout(5_000),
    requestId: 'req_1',
  });
  beforeAll(async () => {
    server = await startFixtureServer();
  });
  afterAll(() => server.close());

  it('posts to /v1/messages with x-api-key and anthropic-version', async () => {
    server.serve(200, 'application/json', fixture('message-tools.json'));
    const result = await adapter().chat(call());
    expect(server.last?.url).toBe('/v1/messages');
    expect(server.last?.headers['x-api-key']).toBe('sk-ant-test');
    expect(server.last?.headers['anthropic-version']).toBe('2023-06-01');
    expect(server.last?.body).toMatchObject({ model: 'claude-3-5-sonnet-latest', max_tokens: 4096 });
    expect(result.response.choices[0]?.message.tool_calls).toHaveLength(2);
  });

  it('throws on a stream that ends before message_stop (never a silent truncation)', async () => {
    server.serve(200, 'text/event-stream', fixture('text.sse').split('event: message_delta')[0] ?? '');
    const stream = await adapter().stream(call({ stream: true }));
    await expect(
      (async () => {
        for await (const _part of stream) {
          // consume
        }
      })(),
    ).rejects.toMatchObject({ code: ErrorCode.upstreamMalformed, isRetryable: true });
  });

  it('maps "prompt is too long" to context_length_exceeded and 529 to a retryable 503', async () => {
    server.serve(
      400,
      'application/json',
      JSON.stringify({
        type: 'error',
        error: { type: 'invalid_request_error', message: 'prompt is too long: 210000 tokens > 200000 maximum' },
      }),
    );
    await expect(adapter().chat(call())).rejects.toMatchObject({ code: ErrorCode.contextLengthExceeded, status: 400 });
    server.serve(529, 'application/json', JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
    await expect(adapter().chat(call())).rejects.toMatchObject({ status: 503, isRetryable: true, upstreamMessage: 'Overloaded' });
  });
});
