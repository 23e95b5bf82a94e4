import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { Ollama } from 'ollama';
import OpenAI, { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from './index.js';
import type { Emulator } from './index.js';

/**
 * The emulators checked against the providers' official SDKs: if an emulator drifted from the real
 * wire format, the SDK would fail to parse it here.
 */
const key = 'sk-emulator-key';
const parallel = [
  { name: 'get_weather', arguments: { city: 'Paris' } },
  { name: 'get_time', arguments: { zone: 'Europe/Paris' } },
];

describe('OpenAI emulator with the openai SDK', () => {
  let emulator: Emulator;
  let client: OpenAI;
  beforeAll(async () => {
    emulator = await startEmulator({ kind: 'openai', apiKey: key });
    client = new OpenAI({ baseURL: emulator.url, apiKey: key, maxRetries: 0 });
  });
  afterAll(() => emulator.close());

  it('answers text with usage, and n choices', async () => {
    emulator.enqueue({ text: 'Hi there', usage: { promptTokens: 3, completionTokens: 2, cachedTokens: 1, reasoningTokens: 0 } });
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }], n: 2 });
    expect(completion.choices.map((choice) => choice.message.content)).toEqual(['Hi there', 'Hi there']);
    expect(completion.usage?.prompt_tokens_details?.cached_tokens).toBe(1);
  });

  it('streams text and the usage chunk', async () => {
    emulator.enqueue({ text: 'one two three' });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage ??= chunk.usage;
    }
    expect(text).toBe('one two three');
    expect(usage?.total_tokens).toBeGreaterThan(0);
  });

  it('streams parallel tool calls the SDK assembles', async () => {
    emulator.enqueue({ toolCalls: parallel });
    const final = await client.chat.completions
      .stream({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })
      .finalChatCompletion();
    const calls = final.choices[0]?.message.tool_calls ?? [];
    expect(calls.map((call) => (call.type === 'function' ? [call.function.name, JSON.parse(call.function.arguments)] : null))).toEqual([
      ['get_weather', { city: 'Paris' }],
      ['get_time', { zone: 'Europe/Paris' }],
    ]);
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('raises typed errors: 429 with Retry-After, 401 for a wrong key', async () => {
    emulator.enqueue({ fault: { type: 'status', status: 429, retryAfter: '2' } });
    const limited = await client.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })
      .catch((error: unknown) => error);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((limited as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('2');
    const wrong = new OpenAI({ baseURL: emulator.url, apiKey: 'nope', maxRetries: 0 });
    await expect(wrong.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('embeds and lists models', async () => {
    const embeddings = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    expect(embeddings.data).toHaveLength(2);
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toContain('gpt-4o');
  });
});

describe('Azure emulator with the AzureOpenAI client', () => {
  let emulator: Emulator;
  let client: AzureOpenAI;
  beforeAll(async () => {
    emulator = await startEmulator({ kind: 'azure', apiKey: key });
    client = new AzureOpenAI({ endpoint: emulator.url, apiKey: key, apiVersion: '2024-10-21', deployment: 'prod-4o', maxRetries: 0 });
  });
  afterAll(() => emulator.close());

  it('answers on the deployment path with the api-key header, streamed with a prompt-filter chunk first', async () => {
    emulator.enqueue({ text: 'azure says hi' }, { text: 'azure streams' });
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    expect(completion.choices[0]?.message.content).toBe('azure says hi');
    expect(emulator.requests[0]?.path).toBe('/openai/deployments/prod-4o/chat/completions');
    expect(emulator.requests[0]?.query['api-version']).toBe('2024-10-21');
    expect(emulator.requests[0]?.headers['api-key']).toBe(key);
    let text = '';
    for await (const chunk of await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    })) {
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe('azure streams');
  });

  it('streams parallel tool calls the client assembles, and embeds on the deployment path', async () => {
    emulator.reset();
    emulator.enqueue({ toolCalls: parallel });
    const final = await client.chat.completions
      .stream({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'x' }],
        tools: [{ type: 'function', function: { name: 'get_weather' } }],
      })
      .finalChatCompletion();
    const calls = final.choices[0]?.message.tool_calls ?? [];
    expect(calls.map((call) => (call.type === 'function' ? [call.function.name, JSON.parse(call.function.arguments)] : null))).toEqual([
      ['get_weather', { city: 'Paris' }],
      ['get_time', { zone: 'Europe/Paris' }],
    ]);
    const embedder = new AzureOpenAI({
      endpoint: emulator.url,
      apiKey: key,
      apiVersion: '2024-10-21',
      deployment: 'text-embedding-3-small',
      maxRetries: 0,
    });
    const embeddings = await embedder.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b', 'c'] });
    expect(embeddings.data.map((entry) => entry.index)).toEqual([0, 1, 2]);
    expect(embeddings.data[0]?.embedding).toHaveLength(8);
    expect(emulator.requests.at(-1)?.path).toBe('/openai/deployments/text-embedding-3-small/embeddings');
  });
});

describe('Anthropic emulator with the @anthropic-ai/sdk', () => {
  let emulator: Emulator;
  let client: Anthropic;
  beforeAll(async () => {
    emulator = await startEmulator({ kind: 'anthropic', apiKey: key });
    client = new Anthropic({ baseURL: emulator.url, apiKey: key, maxRetries: 0 });
  });
  afterAll(() => emulator.close());

  it('answers a message with usage including cache reads', async () => {
    emulator.enqueue({ text: 'Claude here', usage: { promptTokens: 10, completionTokens: 3, cachedTokens: 4 } });
    const message = await client.messages.create({
      model: 'claude-3-5-sonnet-latest',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'Claude here' });
    expect(message.usage).toMatchObject({ input_tokens: 6, cache_read_input_tokens: 4, output_tokens: 3 });
  });

  it('streams text and parallel tool_use blocks the SDK assembles', async () => {
    emulator.enqueue({ text: 'Checking both.', toolCalls: parallel });
    const message = await client.messages
      .stream({ model: 'claude-3-5-sonnet-latest', max_tokens: 100, messages: [{ role: 'user', content: 'x' }] })
      .finalMessage();
    expect(message.content.map((block) => block.type)).toEqual(['text', 'tool_use', 'tool_use']);
    expect(message.content.slice(1).map((block) => (block.type === 'tool_use' ? block.input : null))).toEqual([
      { city: 'Paris' },
      { zone: 'Europe/Paris' },
    ]);
    expect(message.stop_reason).toBe('tool_use');
  });

  it('raises typed errors: 529 overloaded, 401, and the in-stream error event', async () => {
    emulator.enqueue({ fault: { type: 'status', status: 529 } });
    const overloaded = await client.messages
      .create({ model: 'claude-3-5-sonnet-latest', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
      .catch((error: unknown) => error);
    expect(overloaded).toBeInstanceOf(Anthropic.APIError);
    expect((overloaded as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    const wrong = new Anthropic({ baseURL: emulator.url, apiKey: 'nope', maxRetries: 0 });
    await expect(
      wrong.messages.create({ model: 'claude-3-5-sonnet-latest', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    emulator.enqueue({ text: 'partial words here', fault: { type: 'stream-error-event' } });
    await expect(
      client.messages
        .stream({ model: 'claude-3-5-sonnet-latest', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
        .finalMessage(),
    ).rejects.toThrow(/Overloaded/);
  });

  it('lists models', async () => {
    const page = await client.models.list();
    expect(page.data.map((model) => model.id)).toContain('claude-3-5-sonnet-latest');
  });

  it('refuses a request without max_tokens, as the API does', async () => {
    const refused = await client.messages
      .create({
        model: 'claude-3-5-sonnet-latest',
        messages: [{ role: 'user', content: 'x' }],
      } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Anthropic.BadRequestError);
    expect((refused as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'max_tokens: Field required' },
    });
  });

  it('answers a forced tool with a tool_use block of that tool (how a gateway gets json_schema output), plain and streamed', async () => {
    const tool = { name: 'json_response', input_schema: { type: 'object' as const, properties: { answer: { type: 'number' } } } };
    emulator.enqueue({ text: '{"answer":42}' }, { text: '{"answer":43}' });
    const params = {
      model: 'claude-3-5-sonnet-latest',
      max_tokens: 100,
      messages: [{ role: 'user' as const, content: 'x' }],
      tools: [tool],
      tool_choice: { type: 'tool' as const, name: 'json_response' },
    };
    const message = await client.messages.create(params);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toEqual([expect.objectContaining({ type: 'tool_use', name: 'json_response', input: { answer: 42 } })]);
    const streamed = await client.messages.stream(params).finalMessage();
    expect(streamed.content).toEqual([expect.objectContaining({ type: 'tool_use', name: 'json_response', input: { answer: 43 } })]);
  });
});

describe('Gemini emulator with @google/genai', () => {
  let emulator: Emulator;
  let client: GoogleGenAI;
  beforeAll(async () => {
    emulator = await startEmulator({ kind: 'gemini', apiKey: key });
    client = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: emulator.url } });
  });
  afterAll(() => emulator.close());

  it('generates content with usage metadata, the key in a header', async () => {
    emulator.enqueue({ text: 'Gemini here', usage: { promptTokens: 5, completionTokens: 7, reasoningTokens: 2 } });
    const response = await client.models.generateContent({ model: 'gemini-2.0-flash', contents: 'hello' });
    expect(response.text).toBe('Gemini here');
    expect(response.usageMetadata).toMatchObject({ promptTokenCount: 5, candidatesTokenCount: 5, thoughtsTokenCount: 2 });
    expect(emulator.requests[0]?.headers['x-goog-api-key']).toBe(key);
    expect(emulator.requests[0]?.query['key']).toBeUndefined();
  });

  it('streams text and function calls', async () => {
    emulator.enqueue({ text: 'a b c' }, { toolCalls: parallel });
    let text = '';
    for await (const chunk of await client.models.generateContentStream({ model: 'gemini-2.0-flash', contents: 'x' }))
      text += chunk.text ?? '';
    expect(text).toBe('a b c');
    const calls: unknown[] = [];
    for await (const chunk of await client.models.generateContentStream({ model: 'gemini-2.0-flash', contents: 'x' }))
      calls.push(...(chunk.functionCalls ?? []));
    expect(calls).toEqual([
      { name: 'get_weather', args: { city: 'Paris' } },
      { name: 'get_time', args: { zone: 'Europe/Paris' } },
    ]);
  });

  it('raises errors with status, embeds and lists models', async () => {
    emulator.enqueue({ fault: { type: 'status', status: 429 } });
    await expect(client.models.generateContent({ model: 'gemini-2.0-flash', contents: 'x' })).rejects.toThrow(/429|RESOURCE_EXHAUSTED/);
    const embedded = await client.models.embedContent({ model: 'text-embedding-004', contents: ['first', 'second'] });
    expect(embedded.embeddings).toHaveLength(2);
    const pager = await client.models.list();
    expect(pager.page.map((model) => model.name)).toContain('models/gemini-2.0-flash');
  });

  it('refuses tool schemas with keywords its Schema object does not have, and accepts the ones it has', async () => {
    const send = (parameters: unknown) =>
      fetch(`${emulator.url}/v1beta/models/gemini-2.0-flash:generateContent`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-goog-api-key': key },
        body: JSON.stringify({
          contents: [{ role: 'user', parts: [{ text: 'x' }] }],
          tools: [{ functionDeclarations: [{ name: 'f', parameters }] }],
        }),
      });
    for (const keyword of ['additionalProperties', '$ref', '$defs', 'propertyNames', 'uniqueItems', '$schema', 'const', 'oneOf']) {
      const response = await send({ type: 'object', properties: { inner: { type: 'object', [keyword]: false } } });
      expect(response.status, keyword).toBe(400);
      const body = (await response.json()) as { error: { status: string; message: string } };
      expect(body.error.status).toBe('INVALID_ARGUMENT');
      expect(body.error.message).toContain(
        `Unknown name "${keyword}" at 'tools[0].function_declarations[0].parameters.properties["inner"].value'`,
      );
    }
    const accepted = await send({
      type: 'object',
      title: 'Args',
      properties: { city: { type: 'string', default: 'Paris', nullable: true }, days: { type: 'integer', minimum: 1, maximum: 7 } },
      required: ['city'],
      propertyOrdering: ['city', 'days'],
    });
    expect(accepted.status).toBe(200);
  });
});

describe('Ollama emulator with the official ollama client', () => {
  let emulator: Emulator;
  let client: Ollama;
  beforeAll(async () => {
    emulator = await startEmulator({ kind: 'ollama' });
    client = new Ollama({ host: emulator.url });
  });
  afterAll(() => emulator.close());

  it('chats with counts and tool calls (object arguments)', async () => {
    emulator.enqueue({ text: 'llama speaks', toolCalls: [parallel[0]!], usage: { promptTokens: 7, completionTokens: 3 } });
    const response = await client.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'x' }] });
    expect(response.message.content).toBe('llama speaks');
    expect(response.message.tool_calls?.map((call) => [call.function.name, call.function.arguments])).toEqual([
      ['get_weather', { city: 'Paris' }],
    ]);
    expect(response).toMatchObject({ done: true, done_reason: 'stop', prompt_eval_count: 7, eval_count: 3 });
    expect(emulator.requests.at(-1)?.body).toMatchObject({ stream: false });
  });

  it('streams NDJSON the client reads part by part, ending with done and counts', async () => {
    emulator.enqueue({ text: 'one two three', finish: 'length' });
    const parts = [];
    for await (const part of await client.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'x' }], stream: true }))
      parts.push(part);
    expect(parts.map((part) => part.message.content).join('')).toBe('one two three');
    expect(parts.at(-1)).toMatchObject({ done: true, done_reason: 'length', eval_count: expect.any(Number) });
    const raw = await fetch(`${emulator.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(raw.headers.get('content-type')).toBe('application/x-ndjson');
    await raw.text();
  });

  it('lists tags, follows a list changed at run time, and embeds', async () => {
    expect((await client.list()).models.map((model) => model.name)).toEqual(['llama3.2:latest', 'nomic-embed-text:latest']);
    emulator.setModels(['llama3.2', 'qwen2.5:7b']);
    expect((await client.list()).models.map((model) => model.name)).toEqual(['llama3.2:latest', 'qwen2.5:7b']);
    const embedded = await client.embed({ model: 'nomic-embed-text', input: ['a', 'b'] });
    expect(embedded.embeddings).toHaveLength(2);
  });
});

describe('faults', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ kind: 'openai' });
  });
  afterAll(() => emulator.close());
  const post = (stream: boolean, signal?: AbortSignal) =>
    fetch(`${emulator.url}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'gpt-4o', stream, messages: [{ role: 'user', content: 'x' }] }),
      ...(signal ? { signal } : {}),
    });

  it('reset-before-headers makes the request fail', async () => {
    emulator.enqueue({ fault: { type: 'reset-before-headers' } });
    await expect(post(false)).rejects.toThrow();
  });

  it('stall-after-headers sends headers and no body', async () => {
    emulator.enqueue({ fault: { type: 'stall-after-headers' } });
    const response = await post(true, AbortSignal.timeout(3_000));
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const outcome = await Promise.race([
      reader.read().then(() => 'data'),
      new Promise((resolve) => setTimeout(() => resolve('silence'), 300)),
    ]);
    expect(outcome).toBe('silence');
    await reader.cancel();
  });

  it('cut-mid-stream ends the body early with an error', async () => {
    emulator.enqueue({ text: 'a b c d e', fault: { type: 'cut-mid-stream', afterEvents: 2 } });
    const response = await post(true);
    await expect(response.text()).rejects.toThrow();
  });

  it('malformed-json sends a broken body', async () => {
    emulator.enqueue({ fault: { type: 'malformed-json' } });
    const text = await (await post(false)).text();
    expect(() => JSON.parse(text)).toThrow();
  });

  it('slow-trickle spaces the events out; delay waits before answering', async () => {
    emulator.enqueue({ text: 'a b c', fault: { type: 'slow-trickle', intervalMs: 60 } }, { fault: { type: 'delay', ms: 150 } });
    let started = Date.now();
    await (await post(true)).text();
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    started = Date.now();
    await (await post(false)).json();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('stream-error-event puts an error event after the first content', async () => {
    emulator.enqueue({ text: 'a b c', fault: { type: 'stream-error-event' } });
    const text = await (await post(true)).text();
    expect(text).toContain('"content":"a "');
    expect(text.trim().split('\n\n').at(-1)).toMatch(/^data: \{"error"/);
  });

  it("context-length is the provider's own 400", async () => {
    emulator.enqueue({ fault: { type: 'context-length' } });
    const response = await post(false);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('context_length_exceeded');
  });
});
