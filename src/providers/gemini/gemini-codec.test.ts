import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../core/chat.js';
import { ErrorCode, ProviderError } from '../../core/errors.js';
import type { StreamPart } from '../../core/stream-part.js';
import { startFixtureServer } from '../../../test/support/fixture-server.js';
import type { FixtureServer } from '../../../test/support/fixture-server.js';
import { sseEventsOf } from '../../../test/support/replay.js';
import { toGeminiSchema } from './convert-json-schema.js';
import { toGeminiRequest } from './convert-request.js';
import { fromGeminiResponse } from './convert-response.js';
import { createGeminiAdapter } from './gemini-adapter.js';
import { GeminiStreamDecoder } from './gemini-stream-decoder.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

function decode(name: string, seed?: number): StreamPart[] {
  const decoder = new GeminiStreamDecoder('google', 'gemini-2.0-flash');
  return [...sseEventsOf(fixture(name), seed).flatMap((event) => decoder.decode(event.data)), ...decoder.end()];
}

describe('Gemini JSON-schema down-levelling', () => {
  it('inlines $refs, maps const/nullable/oneOf, drops what Gemini rejects and says so', () => {
    const { schema, dropped } = toGeminiSchema(
      {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        title: 'Order',
        additionalProperties: false,
        properties: {
          item: { $ref: '#/$defs/Item' },
          note: { type: ['string', 'null'], default: null },
          kind: { const: 'order' },
          tags: { type: 'array', items: { type: 'string' }, uniqueItems: true },
          payment: { oneOf: [{ type: 'string' }, { type: 'number' }] },
        },
        required: ['item'],
        $defs: { Item: { type: 'object', properties: { sku: { type: 'string' } }, additionalProperties: false } },
      },
      "tool 'order'",
      'tools[0].function.parameters',
    );
    expect(schema).toEqual({
      type: 'object',
      properties: {
        item: { type: 'object', properties: { sku: { type: 'string' } } },
        note: { type: 'string', nullable: true },
        kind: { enum: ['order'], type: 'string' },
        tags: { type: 'array', items: { type: 'string' } },
        payment: { anyOf: [{ type: 'string' }, { type: 'number' }] },
      },
      required: ['item'],
    });
    expect(dropped.map((line) => /'([^']+)' is not supported/.exec(line)?.[1]).sort()).toEqual([
      '$schema',
      'additionalProperties',
      'default',
      'title',
      'uniqueItems',
    ]);
  });

  it('drops propertyNames (a map keyed by pattern) down to a plain object, nested too, and says so once', () => {
    const { schema, dropped } = toGeminiSchema(
      {
        type: 'object',
        properties: {
          labels: { type: 'object', propertyNames: { pattern: '^[a-z]+$' }, additionalProperties: { type: 'string' } },
          groups: { type: 'array', items: { type: 'object', propertyNames: { minLength: 2 } } },
        },
      },
      "tool 'tag'",
      'tools[0].function.parameters',
    );
    expect(schema).toEqual({
      type: 'object',
      properties: { labels: { type: 'object' }, groups: { type: 'array', items: { type: 'object' } } },
    });
    expect(dropped).toEqual([
      "tool 'tag': the JSON-schema keyword 'propertyNames' is not supported by Gemini and was dropped",
      "tool 'tag': the JSON-schema keyword 'additionalProperties' is not supported by Gemini and was dropped",
    ]);
  });

  it('refuses a recursive schema with a 400 naming the parameter', () => {
    expect(() =>
      toGeminiSchema(
        { $defs: { Node: { type: 'object', properties: { next: { $ref: '#/$defs/Node' } } } }, $ref: '#/$defs/Node' },
        'tool',
        'tools[0].function.parameters',
      ),
    ).toThrow(/recursive/);
  });
});

describe('Gemini request conversion', () => {
  const request: ChatRequest = {
    model: 'gemini',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'developer', content: 'Metric units.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.webp' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
    ],
    tools: [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: { type: 'object', additionalProperties: false, properties: { city: { type: 'string' } } },
        },
      },
      { type: 'function', function: { name: 'now' } },
    ],
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
    temperature: 0.2,
    max_tokens: 100,
    stop: ['END'],
    n: 2,
    seed: 1,
    response_format: {
      type: 'json_schema',
      json_schema: { name: 'out', schema: { type: 'object', properties: { ok: { type: 'boolean' } } } },
    },
  };

  it('maps systems, images, function calls/responses, tools and generation config (snapshot)', () => {
    const plan = toGeminiRequest(request);
    expect(plan.body).toMatchSnapshot();
    expect(plan.warnings).toEqual([
      "tool 'get_weather': the JSON-schema keyword 'additionalProperties' is not supported by Gemini and was dropped",
    ]);
  });

  it('refuses an image URL whose type it cannot tell, and a tool answer with no matching call', () => {
    expect(() =>
      toGeminiRequest({
        model: 'g',
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/image' } }] }],
      }),
    ).toThrow(/image type/);
    expect(() => toGeminiRequest({ model: 'g', messages: [{ role: 'tool', tool_call_id: 'x', content: 'y' }] })).toThrow(
      /no earlier assistant message called/,
    );
  });
});

describe('Gemini response conversion', () => {
  it('maps text, function calls (with generated ids), finish and thinking tokens', () => {
    const { response, usage } = fromGeminiResponse('google', JSON.parse(fixture('response-tools.json')), 'gemini-2.5-flash');
    const choice = response.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBe('Checking.');
    expect(choice?.message.tool_calls?.map((call) => [call.function.name, JSON.parse(call.function.arguments)])).toEqual([
      ['get_weather', { city: 'Paris' }],
      ['get_weather', { city: 'Oslo' }],
    ]);
    expect(choice?.message.tool_calls?.every((call) => call.id.startsWith('call_'))).toBe(true);
    expect(usage).toEqual({ promptTokens: 70, completionTokens: 35, reasoningTokens: 10 });
    expect(response.model).toBe('gemini-2.5-flash');
  });
});

describe('Gemini stream decoding (fixtures fed in random pieces)', () => {
  it.each([1, 2, 3])('text with cached and thinking tokens (seed %i)', (seed) => {
    expect(decode('text.sse', seed)).toEqual([
      { type: 'response-meta', model: 'gemini-2.0-flash-001' },
      { type: 'text-delta', choice: 0, text: 'Hello' },
      { type: 'text-delta', choice: 0, text: ', world' },
      { type: 'text-delta', choice: 0, text: '!' },
      { type: 'usage', usage: { promptTokens: 9, completionTokens: 10, cachedTokens: 2, reasoningTokens: 6 } },
      { type: 'finish', choice: 0, reason: 'stop' },
    ]);
  });

  it('parallel function calls with stable indexes; thought parts dropped', () => {
    const parts = decode('parallel-tools.sse');
    expect(parts.filter((part) => part.type === 'text-delta')).toEqual([]);
    const starts = parts.filter((part): part is Extract<StreamPart, { type: 'tool-call-start' }> => part.type === 'tool-call-start');
    expect(starts.map((part) => [part.index, part.name])).toEqual([
      [0, 'get_weather'],
      [1, 'get_weather'],
    ]);
    expect(
      parts
        .filter((part) => part.type === 'tool-call-delta')
        .map((part) => (part.type === 'tool-call-delta' ? JSON.parse(part.argumentsDelta) : null)),
    ).toEqual([{ city: 'Paris' }, { city: 'Oslo' }]);
    expect(parts.at(-1)).toEqual({ type: 'finish', choice: 0, reason: 'tool_calls' });
  });

  it('finishReason MAX_TOKENS is finish_reason length, plain and streamed', () => {
    const parts = decode('max-tokens.sse');
    expect(parts.filter((part) => part.type === 'text-delta').map((part) => (part.type === 'text-delta' ? part.text : ''))).toEqual([
      'Once upon',
      ' a',
    ]);
    expect(parts.at(-1)).toEqual({ type: 'finish', choice: 0, reason: 'length' });
    const { response, usage } = fromGeminiResponse('google', JSON.parse(fixture('response-max-tokens.json')), 'gemini-2.0-flash');
    expect(response.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: 'Once upon a' } });
    expect(usage).toMatchObject({ promptTokens: 5, completionTokens: 3 });
  });

  it('a blocked prompt ends with content_filter', () => {
    expect(decode('blocked.sse').at(-1)).toEqual({ type: 'finish', choice: 0, reason: 'content_filter' });
  });

  it('an error event mid-stream is a retryable ProviderError; a stream without a finish reason is malformed', () => {
    expect(() => decode('error-mid-stream.sse')).toThrow(ProviderError);
    const decoder = new GeminiStreamDecoder('google', 'g');
    decoder.decode(JSON.stringify({ candidates: [{ content: { parts: [{ text: 'cut' }] }, index: 0 }] }));
    expect(() => decoder.end()).toThrow(/without a finish reason/);
  });
});

describe('Gemini adapter over HTTP', () => {
  let server: FixtureServer;
  beforeAll(async () => {
    server = await startFixtureServer();
  });
  afterAll(() => server.close());
  const adapter = () => createGeminiAdapter({ name: 'google', baseUrl: server.url });
  const call = {
    request: { model: 'g', messages: [{ role: 'user' as const, content: 'hi' }] },
    upstreamModel: 'gemini-2.0-flash',
    apiKey: 'AIza-test-key',
    signal: AbortSignal.timeout(5_000),
    requestId: 'r',
  };

  it('sends the key in x-goog-api-key, never in the URL', async () => {
    server.serve(200, 'application/json', fixture('response-tools.json'));
    await adapter().chat(call);
    expect(server.last?.url).toBe('/v1beta/models/gemini-2.0-flash:generateContent');
    expect(server.last?.headers['x-goog-api-key']).toBe('AIza-test-key');
    server.serve(200, 'text/event-stream', fixture('text.sse'));
    const stream = await adapter().stream(call);
    for await (const _part of stream) {
      // consume
    }
    expect(server.last?.url).toBe('/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse');
  });

  it('maps a bad key (400 API_KEY_INVALID) to an upstream authentication failure and token limits to context length', async () => {
    server.serve(
      400,
      'application/json',
      JSON.stringify({ error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT' } }),
    );
    await expect(adapter().chat(call)).rejects.toMatchObject({ code: ErrorCode.upstreamAuthentication, status: 502 });
    server.serve(
      400,
      'application/json',
      JSON.stringify({
        error: {
          code: 400,
          message: 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).',
          status: 'INVALID_ARGUMENT',
        },
      }),
    );
    await expect(adapter().chat(call)).rejects.toMatchObject({ code: ErrorCode.contextLengthExceeded });
  });
});
