import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../core/chat.js';
import { ErrorCode } from '../../core/errors.js';
import type { StreamPart } from '../../core/stream-part.js';
import { ChunkEncoder } from '../../streaming/chunk-encoder.js';
import { startFixtureServer } from '../../../test/support/fixture-server.js';
import type { FixtureServer } from '../../../test/support/fixture-server.js';
import { validateChunkStream } from '../../../test/support/chunk-stream-validator.js';
import { AzureOpenAIAdapter } from '../azure/azure-adapter.js';
import { createCustomAdapter } from '../custom/custom-adapter.js';
import type { ProviderAdapter } from '../spec/provider-adapter.js';
import { createOpenAIAdapter } from './openai-adapter.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

async function streamThrough(adapter: ProviderAdapter, includeUsage: boolean): Promise<{ parts: StreamPart[]; sse: string }> {
  const stream = await adapter.stream({
    request: {
      model: 'x',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
    },
    upstreamModel: 'gpt-4o',
    apiKey: 'sk-test',
    signal: AbortSignal.timeout(5_000),
    requestId: 'r',
  });
  const encoder = new ChunkEncoder({ id: 'chatcmpl-gw', model: 'gpt-4o', created: 1, includeUsage });
  const parts: StreamPart[] = [];
  let sse = '';
  for await (const part of stream) {
    parts.push(part);
    for (const json of encoder.encode(part)) sse += `data: ${json}\n\n`;
  }
  for (const json of encoder.finish()) sse += `data: ${json}\n\n`;
  return { parts, sse: `${sse}data: [DONE]\n\n` };
}

describe('OpenAI-dialect adapters over HTTP', () => {
  let server: FixtureServer;
  beforeAll(async () => {
    server = await startFixtureServer();
  });
  afterAll(() => server.close());

  it('OpenAI: forwards chunks byte for byte, always asks for usage, and hides the usage chunk unless asked', async () => {
    server.serve(200, 'text/event-stream', fixture('parallel-tools.sse'));
    const adapter = createOpenAIAdapter({ name: 'openai', baseUrl: `${server.url}/v1` });
    const hidden = await streamThrough(adapter, false);
    expect(server.last?.body).toMatchSnapshot();
    expect(server.last?.headers['authorization']).toBe('Bearer sk-test');
    const upstreamChunks = fixture('parallel-tools.sse')
      .split('\n\n')
      .filter((frame) => frame.startsWith('data: {'));
    expect(
      hidden.sse.startsWith(
        upstreamChunks
          .slice(0, 5)
          .map((frame) => `${frame}\n\n`)
          .join(''),
      ),
    ).toBe(true);
    expect(validateChunkStream(hidden.sse, { includeUsage: false }).toolCalls[0]?.map((call) => call.arguments)).toEqual([
      '{"city": "Paris"}',
      '{"city": "Oslo"}',
    ]);
    const shown = await streamThrough(adapter, true);
    expect(validateChunkStream(shown.sse, { includeUsage: true }).usage).toMatchObject({
      prompt_tokens: 80,
      prompt_tokens_details: { cached_tokens: 64 },
    });
    expect(shown.parts.find((part) => part.type === 'usage')).toMatchObject({
      usage: { promptTokens: 80, completionTokens: 40, cachedTokens: 64, reasoningTokens: 0 },
    });
  });

  it('OpenAI: the chunks of one read travel as one raw-chunks part, in order around the usage chunk; chunks before an error event are kept', async () => {
    const chunk = (content: string) =>
      `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"${content}"},"finish_reason":null}]}\n\n`;
    const usage =
      'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}\n\n';
    server.serve(200, 'text/event-stream', `${chunk('a')}${chunk('b')}${usage}${chunk('c')}data: [DONE]\n\n`);
    const adapter = createOpenAIAdapter({ name: 'openai', baseUrl: `${server.url}/v1` });
    const { parts, sse } = await streamThrough(adapter, true);
    expect(parts.map((part) => (part.type === 'raw-chunks' ? part.chunks.length : part.type))).toEqual([2, 'usage', 1]);
    expect(parts[0]).toMatchObject({ type: 'raw-chunks', hasContent: true });
    expect(sse.indexOf('"content":"a"')).toBeLessThan(sse.indexOf('"content":"b"'));
    expect(sse.indexOf('"content":"b"')).toBeLessThan(sse.indexOf('"content":"c"'));

    server.serve(200, 'text/event-stream', `${chunk('a')}${chunk('b')}data: {"error":{"message":"overloaded","type":"server_error"}}\n\n`);
    const stream = await adapter.stream({
      request: { model: 'x', messages: [{ role: 'user', content: 'hi' }], stream: true },
      upstreamModel: 'gpt-4o',
      apiKey: 'sk-test',
      signal: AbortSignal.timeout(5_000),
      requestId: 'r',
    });
    const seen: StreamPart[] = [];
    await expect(
      (async () => {
        for await (const part of stream) seen.push(part);
      })(),
    ).rejects.toThrow(/overloaded/);
    expect(seen).toEqual([
      { type: 'raw-chunks', chunks: [expect.stringContaining('"a"'), expect.stringContaining('"b"')], hasContent: true },
    ]);
  });

  it('custom (vLLM): repairs a missing first role, missing tool index and usage on a content chunk', async () => {
    server.serve(200, 'text/event-stream', fixture('vllm-quirks.sse'));
    const adapter = createCustomAdapter({ name: 'vllm', baseUrl: `${server.url}/v1` });
    const { sse } = await streamThrough(adapter, true);
    const validated = validateChunkStream(sse, { includeUsage: true });
    expect(validated.text[0]).toBe('Sure');
    expect(validated.toolCalls[0]).toEqual([{ id: 'chatcmpl-tool-1', name: 'get_weather', arguments: '{"city": "Paris"}' }]);
    expect(validated.usage?.total_tokens).toBe(50);
    expect(validated.chunks[0]?.model).toBe('meta-llama/Llama-3.1-8B-Instruct');
  });

  it('Azure: deployment URL with api-version, api-key header, no model in the body', async () => {
    server.serve(
      200,
      'application/json',
      JSON.stringify({
        id: 'x',
        object: 'chat.completion',
        created: 1,
        model: 'gpt-4o-2024-08-06',
        choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
      }),
    );
    const adapter = new AzureOpenAIAdapter({ name: 'azure_openai', endpoint: server.url, apiVersion: '2024-10-21' });
    await adapter.chat({
      request: { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] },
      upstreamModel: 'prod 4o',
      apiKey: 'az-key',
      signal: AbortSignal.timeout(5_000),
      requestId: 'r',
    });
    expect(server.last?.url).toBe('/openai/deployments/prod%204o/chat/completions?api-version=2024-10-21');
    expect(server.last?.headers['api-key']).toBe('az-key');
    expect(server.last?.headers['authorization']).toBeUndefined();
    expect(server.last?.body).not.toHaveProperty('model');
  });
});

describe('OpenAI and Azure fixtures: text, json_schema, length, errors (snapshots of the outgoing body)', () => {
  let server: FixtureServer;
  beforeAll(async () => {
    server = await startFixtureServer();
  });
  afterAll(() => server.close());

  const schema = {
    type: 'object',
    properties: { answer: { type: 'number' }, unit: { type: 'string' } },
    required: ['answer', 'unit'],
    additionalProperties: false,
  };
  const request: ChatRequest = {
    model: 'gpt-4o',
    messages: [
      { role: 'system', content: 'Answer in JSON.' },
      { role: 'user', content: 'What is six times seven?' },
    ],
    response_format: { type: 'json_schema', json_schema: { name: 'answer', strict: true, schema } },
    temperature: 0.2,
    max_completion_tokens: 50,
    seed: 7,
    user: 'user-42',
  };
  const adapters: [string, () => ProviderAdapter][] = [
    ['OpenAI', () => createOpenAIAdapter({ name: 'openai', baseUrl: `${server.url}/v1` })],
    ['Azure', () => new AzureOpenAIAdapter({ name: 'azure_openai', endpoint: server.url, apiVersion: '2024-10-21' })],
  ];
  const call = (chat: ChatRequest) => ({
    request: chat,
    upstreamModel: 'gpt-4o',
    apiKey: 'sk-test',
    signal: AbortSignal.timeout(5_000),
    requestId: 'r',
  });

  it.each(adapters)('%s: a text answer (OpenAI: forwarded byte for byte; Azure: decoded)', async (name, adapter) => {
    server.serve(200, 'application/json', fixture('text.json'));
    const result = await adapter().chat(call({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Say hello in French' }] }));
    if (name === 'OpenAI') expect(result.raw).toBe(fixture('text.json'));
    else expect(result.response).toMatchObject({ id: 'chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG', model: 'gpt-4o-2024-08-06' });
    expect(result.response.choices[0]?.message.content).toBe('Bonjour !');
    expect(result.usage).toMatchObject({ promptTokens: 19, completionTokens: 3 });
    expect(server.last?.body).toMatchSnapshot();
  });

  it.each(adapters)('%s: json_schema goes upstream untouched and its answer parses', async (_name, adapter) => {
    server.serve(200, 'application/json', fixture('json-schema.json'));
    const result = await adapter().chat(call(request));
    expect(JSON.parse(result.response.choices[0]?.message.content ?? '')).toEqual({ answer: 42, unit: 'none' });
    expect((server.last?.body as Record<string, unknown>)['response_format']).toEqual(request.response_format);
    expect(server.last?.body).toMatchSnapshot();
  });

  it.each(adapters)('%s: a stream cut by max tokens ends with finish_reason length', async (_name, adapter) => {
    server.serve(200, 'text/event-stream', fixture('length.sse'));
    const { sse } = await streamThrough(adapter(), false);
    const validated = validateChunkStream(sse, { includeUsage: false });
    expect(validated.finishReasons).toEqual(['length']);
    expect(validated.text[0]).toBe('Once upon a');
  });

  it.each(adapters)('%s: a 429 is retryable and keeps retry-after-ms; a context-length 400 is recognised', async (_name, adapter) => {
    server.serve(429, 'application/json', fixture('error-429.json'), { 'retry-after-ms': '140', 'retry-after': '1' });
    await expect(adapter().chat(call(request))).rejects.toMatchObject({
      code: ErrorCode.upstreamRateLimited,
      status: 429,
      isRetryable: true,
      retryAfterMs: 140,
      upstreamStatus: 429,
      upstreamMessage: expect.stringMatching(/^Rate limit reached for gpt-4o/),
    });
    server.serve(400, 'application/json', fixture('error-context-length.json'));
    await expect(adapter().chat(call(request))).rejects.toMatchObject({
      code: ErrorCode.contextLengthExceeded,
      status: 400,
      param: 'messages',
    });
  });

  it("Azure: a content-filter 400 is the client's error, passed through with Azure's message, not retried", async () => {
    server.serve(400, 'application/json', fixture('azure-error-400-content-filter.json'));
    const adapter = new AzureOpenAIAdapter({ name: 'azure_openai', endpoint: server.url, apiVersion: '2024-10-21' });
    await expect(adapter.chat(call(request))).rejects.toMatchObject({
      code: ErrorCode.invalidRequest,
      status: 400,
      isRetryable: false,
      message: expect.stringContaining("Azure OpenAI's content management policy"),
    });
  });
});
