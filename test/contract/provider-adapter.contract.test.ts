import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../src/core/chat.js';
import { ErrorCode, GatewayError, ProviderError } from '../../src/core/errors.js';
import type { StreamPart } from '../../src/core/stream-part.js';
import { createAdapter } from '../../src/providers/registry.js';
import type { ChatCall, ProviderAdapter } from '../../src/providers/spec/provider-adapter.js';
import { ChunkEncoder } from '../../src/streaming/chunk-encoder.js';
import { startEmulator } from '../emulators/index.js';
import type { Emulator, ScriptedReply } from '../emulators/index.js';
import { validateChunkStream } from '../support/chunk-stream-validator.js';
import { emulatorKey, providerCases, providerConfig } from './provider-matrix.js';

/**
 * The suite every provider adapter passes, each against the emulator of its wire format: text, tools
 * (parallel, streamed), usage, embeddings, model listing, and every upstream failure mapped to the right
 * ProviderError (retryable or not) — never a hang, never a silent truncation.
 */

const weather = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

async function collect(parts: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const result: StreamPart[] = [];
  for await (const part of parts) result.push(part);
  return result;
}

function toSse(parts: StreamPart[], includeUsage: boolean): { body: string; encoder: ChunkEncoder } {
  const encoder = new ChunkEncoder({ id: 'chatcmpl-contract', model: 'requested', created: 1_700_000_000, includeUsage });
  let body = '';
  for (const part of parts) for (const json of encoder.encode(part)) body += `data: ${json}\n\n`;
  for (const json of encoder.finish()) body += `data: ${json}\n\n`;
  return { body: `${body}data: [DONE]\n\n`, encoder };
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    return error as GatewayError;
  }
  throw new Error('expected a failure');
}

describe.each(providerCases)('provider adapter contract: $name ($kind)', (entry) => {
  let emulator: Emulator;
  let adapter: ProviderAdapter;
  let impatient: ProviderAdapter;

  beforeAll(async () => {
    emulator = await startEmulator({ kind: entry.emulator, apiKey: emulatorKey });
    adapter = createAdapter(providerConfig(entry, emulator.url));
    impatient = createAdapter(providerConfig(entry, emulator.url, { idleMs: 300, headersMs: 300 }));
  });
  afterAll(async () => {
    await adapter?.close();
    await impatient?.close();
    await emulator?.close();
  });
  beforeEach(() => emulator.reset());

  const call = (request: Partial<ChatRequest> = {}, signal: AbortSignal = AbortSignal.timeout(10_000)): ChatCall => ({
    request: { model: entry.chatModel, messages: [{ role: 'user', content: 'Hi there' }], ...request },
    upstreamModel: entry.upstreamChatModel,
    apiKey: emulatorKey,
    signal,
    requestId: 'req_contract',
  });

  it('completes a text request in the OpenAI shape with usage', async () => {
    emulator.enqueue({ text: 'Hello world', usage: { promptTokens: 11, completionTokens: 2 } });
    const { response, usage } = await adapter.chat(call());
    expect(response.object).toBe('chat.completion');
    expect(response.choices[0]?.message.content).toBe('Hello world');
    expect(response.choices[0]?.finish_reason).toBe('stop');
    expect(usage).toMatchObject({ promptTokens: 11, completionTokens: 2 });
    expect(emulator.requests).toHaveLength(1);
  });

  it('sends the key in a header, never in the URL', async () => {
    await adapter.chat(call());
    const recorded = emulator.requests[0];
    expect(recorded?.path).not.toContain(emulatorKey);
    expect(JSON.stringify(recorded?.query)).not.toContain(emulatorKey);
    if (entry.kind !== 'ollama') expect(Object.values(recorded?.headers ?? {}).join(' ')).toContain(emulatorKey);
  });

  it('returns parallel tool calls with their arguments', async () => {
    emulator.enqueue({
      toolCalls: [
        { name: 'get_weather', arguments: { city: 'Paris' } },
        { name: 'get_weather', arguments: { city: 'Tokyo' } },
      ],
      finish: 'tool_calls',
    });
    const { response } = await adapter.chat(call({ tools: [weather] }));
    const calls = response.choices[0]?.message.tool_calls ?? [];
    expect(calls.map((toolCall) => JSON.parse(toolCall.function.arguments))).toEqual([{ city: 'Paris' }, { city: 'Tokyo' }]);
    expect(calls.every((toolCall) => toolCall.id.length > 0 && toolCall.function.name === 'get_weather')).toBe(true);
    expect(response.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('streams text that encodes to a valid OpenAI chunk stream, with usage', async () => {
    emulator.enqueue({ text: 'one two three four', usage: { promptTokens: 5, completionTokens: 4 } });
    const stream = await adapter.stream(call({ stream: true }));
    const { body, encoder } = toSse(await collect(stream), true);
    const validated = validateChunkStream(body, { includeUsage: true });
    expect(validated.text[0]).toBe('one two three four');
    expect(validated.finishReasons).toEqual(['stop']);
    expect(encoder.reportedUsage).toMatchObject({ promptTokens: 5, completionTokens: 4 });
  });

  it('streams parallel tool calls with stable indexes and complete arguments', async () => {
    emulator.enqueue({
      toolCalls: [
        { name: 'get_weather', arguments: { city: 'Paris', unit: 'celsius' } },
        { name: 'get_weather', arguments: { city: 'Tokyo', unit: 'celsius' } },
      ],
      finish: 'tool_calls',
    });
    const stream = await adapter.stream(call({ stream: true, tools: [weather] }));
    const validated = validateChunkStream(toSse(await collect(stream), false).body, { includeUsage: false });
    expect(validated.toolCalls[0]?.map((toolCall) => JSON.parse(toolCall.arguments))).toEqual([
      { city: 'Paris', unit: 'celsius' },
      { city: 'Tokyo', unit: 'celsius' },
    ]);
    expect(validated.finishReasons).toEqual(['tool_calls']);
  });

  const statusCases: [string, ScriptedReply, Partial<GatewayError & ProviderError>][] = [
    [
      '429 with Retry-After seconds',
      { fault: { type: 'status', status: 429, retryAfter: '3' } },
      { status: 429, isRetryable: true, retryAfterMs: 3000 },
    ],
    ['500', { fault: { type: 'status', status: 500 } }, { isRetryable: true, upstreamStatus: 500 }],
    ['503', { fault: { type: 'status', status: 503 } }, { status: 503, isRetryable: true }],
    ['400', { fault: { type: 'status', status: 400, message: 'bad thing' } }, { status: 400, isRetryable: false }],
    ['context length', { fault: { type: 'context-length' } }, { status: 400, code: ErrorCode.contextLengthExceeded }],
    ['reset before headers', { fault: { type: 'reset-before-headers' } }, { code: ErrorCode.upstreamUnavailable, isRetryable: true }],
    ['malformed JSON', { fault: { type: 'malformed-json' } }, { code: ErrorCode.upstreamMalformed, isRetryable: true }],
  ];

  it.each(statusCases)('maps %s (non-stream) to a ProviderError', async (_name, reply, expected) => {
    emulator.enqueue(reply);
    const error = await failure(adapter.chat(call()));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject(expected);
    expect(error.message).not.toContain(emulatorKey);
  });

  it.each(statusCases)('maps %s (stream) to a ProviderError', async (_name, reply, expected) => {
    emulator.enqueue(reply);
    const error = await failure(adapter.stream(call({ stream: true })).then(collect));
    expect(error).toMatchObject(expected);
  });

  it.skipIf(entry.kind === 'ollama')(
    "refuses the wrong key as an upstream authentication failure (502), not as the client's 401",
    async () => {
      const error = await failure(adapter.chat({ ...call(), apiKey: 'sk-wrong' }));
      expect(error).toMatchObject({ status: 502, code: ErrorCode.upstreamAuthentication, isRetryable: false });
    },
  );

  it('ends a stream cut in the middle with a retryable error, never silently', async () => {
    emulator.enqueue({ text: 'a b c d e f g h', fault: { type: 'cut-mid-stream', afterEvents: 2 } });
    const error = await failure(adapter.stream(call({ stream: true })).then(collect));
    expect(error.isRetryable).toBe(true);
  });

  it('raises an in-stream error event as a ProviderError', async () => {
    emulator.enqueue({ text: 'partial answer', fault: { type: 'stream-error-event' } });
    const error = await failure(adapter.stream(call({ stream: true })).then(collect));
    expect(error).toBeInstanceOf(ProviderError);
  });

  it('times out a stream that stalls after its headers', async () => {
    emulator.enqueue({ fault: { type: 'stall-after-headers' } });
    const error = await failure(impatient.stream(call({ stream: true })).then(collect));
    expect(error).toMatchObject({ code: ErrorCode.upstreamTimeout, isRetryable: true });
  });

  it('times out a non-stream request that stalls after its headers', async () => {
    emulator.enqueue({ fault: { type: 'stall-after-headers' } });
    const error = await failure(impatient.chat(call()));
    expect(error).toMatchObject({ code: ErrorCode.upstreamTimeout });
  });

  it('stops promptly when the caller aborts', async () => {
    emulator.enqueue({ fault: { type: 'stall-after-headers' } });
    const controller = new AbortController();
    const pending = adapter.stream(call({ stream: true }, controller.signal)).then(collect);
    setTimeout(() => controller.abort(new Error('client left')), 100);
    const started = Date.now();
    await expect(pending).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it.runIf(entry.embeddingModel !== undefined)('embeds in the OpenAI shape', async () => {
    expect(adapter.embed).toBeDefined();
    const result = await adapter.embed!({
      request: { model: entry.embeddingModel as string, input: ['alpha', 'beta'] },
      upstreamModel: entry.embeddingModel as string,
      apiKey: emulatorKey,
      signal: AbortSignal.timeout(5_000),
      requestId: 'req_contract',
    });
    expect(result.response.object).toBe('list');
    expect(result.response.data.map((item) => item.index)).toEqual([0, 1]);
    expect(Array.isArray(result.response.data[0]?.embedding)).toBe(true);
  });

  it.runIf(entry.embeddingModel !== undefined)('reads an answer larger than 1 MiB whole (a batch of wide embeddings)', async () => {
    const wide = await startEmulator({ kind: entry.emulator, apiKey: emulatorKey, embeddingDimensions: 3_072 });
    try {
      const inputs = Array.from({ length: 100 }, (_, index) => `input ${index}`);
      const result = await createAdapter(providerConfig(entry, wide.url)).embed!({
        request: { model: entry.embeddingModel as string, input: inputs },
        upstreamModel: entry.embeddingModel as string,
        apiKey: emulatorKey,
        signal: AbortSignal.timeout(10_000),
        requestId: 'req_contract',
      });
      expect(JSON.stringify(result.response).length).toBeGreaterThan(1024 * 1024);
      expect(result.response.data).toHaveLength(100);
      expect(result.response.data[99]?.embedding).toHaveLength(3_072);
    } finally {
      await wide.close();
    }
  });

  it("lists the upstream's models", async () => {
    const models = await adapter.listModels!({ apiKey: emulatorKey, signal: AbortSignal.timeout(5_000) });
    expect(models.length).toBeGreaterThan(0);
    expect(models.every((model) => typeof model.id === 'string' && model.id.length > 0)).toBe(true);
  });
});
