import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { emulatorKey } from '../contract/provider-matrix.js';
import { vectorFor } from '../emulators/scenario.js';
import { validateChunkStream } from '../support/chunk-stream-validator.js';
import { modelName, startFleet } from './support/provider-fleet.js';
import type { Fleet } from './support/provider-fleet.js';

/**
 * The official openai SDK against the real server, through each of the six provider kinds: chat, stream,
 * tools (parallel, streamed), json_schema, images, embeddings and the model list.
 */
let fleet: Fleet;
let client: OpenAI;

beforeAll(async () => {
  fleet = await startFleet();
  client = new OpenAI({ baseURL: `${fleet.gateway.url}/v1`, apiKey: 'not-needed-on-loopback', maxRetries: 0, timeout: 15_000 });
}, 60_000);
afterAll(async () => {
  await fleet?.stop();
});
beforeEach(() => {
  for (const emulator of Object.values(fleet.emulators)) emulator.reset();
});

const weatherTool: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
const tinyPng = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

describe.each([0, 1, 2, 3, 4, 5])('openai SDK through the gateway, provider case %i', (position) => {
  const entry = () => fleet.cases[position]!;
  const emulator = () => fleet.emulators[entry().name]!;

  it('chat: plain completion, with headers saying where it went', async () => {
    emulator().enqueue({ text: 'Bonjour', usage: { promptTokens: 9, completionTokens: 1 } });
    const { data, response } = await client.chat.completions
      .create({
        model: modelName(entry()),
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Say hello in French' },
        ],
      })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('Bonjour');
    expect(data.usage?.prompt_tokens).toBe(9);
    expect(response.headers.get('x-cb-provider')).toBe(entry().name);
    expect(response.headers.get('x-cb-model')).toBe(data.model);
    expect(data.model.length).toBeGreaterThan(0);
    expect(response.headers.get('x-cb-attempts')).toBe('1');
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(Number(response.headers.get('x-cb-overhead-ms'))).toBeGreaterThanOrEqual(0);
    expect(emulator().requests).toHaveLength(1);
  });

  it('stream: the SDK reads the text and the usage chunk; the raw stream passes the validator', async () => {
    emulator().enqueue({ text: 'streamed words arrive here', usage: { promptTokens: 4, completionTokens: 4 } });
    const stream = await client.chat.completions.create({
      model: modelName(entry()),
      messages: [{ role: 'user', content: 'stream please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('streamed words arrive here');
    expect(usage?.completion_tokens).toBe(4);

    emulator().enqueue({ text: 'raw check' });
    const raw = await fetch(`${fleet.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: modelName(entry()), messages: [{ role: 'user', content: 'x' }], stream: true }),
    });
    expect(raw.headers.get('content-type')).toContain('text/event-stream');
    expect(validateChunkStream(await raw.text(), { includeUsage: false }).text[0]).toBe('raw check');
  });

  it('tools: parallel calls, plain and streamed (finalChatCompletion)', async () => {
    const calls = [
      { name: 'get_weather', arguments: { city: 'Paris' } },
      { name: 'get_weather', arguments: { city: 'Oslo' } },
    ];
    emulator().enqueue({ toolCalls: calls, finish: 'tool_calls' }, { toolCalls: calls, finish: 'tool_calls' });
    const plain = await client.chat.completions.create({
      model: modelName(entry()),
      messages: [{ role: 'user', content: 'weather?' }],
      tools: [weatherTool],
    });
    expect(plain.choices[0]?.finish_reason).toBe('tool_calls');
    const streamed = await client.chat.completions
      .stream({ model: modelName(entry()), messages: [{ role: 'user', content: 'weather?' }], tools: [weatherTool] })
      .finalChatCompletion();
    for (const completion of [plain, streamed]) {
      const toolCalls = completion.choices[0]?.message.tool_calls ?? [];
      expect(toolCalls.map((call) => (call.type === 'function' ? JSON.parse(call.function.arguments) : null))).toEqual([
        { city: 'Paris' },
        { city: 'Oslo' },
      ]);
    }
    // the tool results go back: a second turn with the assistant's calls and the tool answers
    const assistant = plain.choices[0]!.message;
    emulator().enqueue({ text: 'Sunny in both' });
    const followUp = await client.chat.completions.create({
      model: modelName(entry()),
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: null, tool_calls: assistant.tool_calls },
        ...(assistant.tool_calls ?? []).map((call) => ({ role: 'tool' as const, tool_call_id: call.id, content: '{"sky":"sunny"}' })),
      ],
    });
    expect(followUp.choices[0]?.message.content).toBe('Sunny in both');
  });

  it('json_schema and image input reach the provider, each where its API expects them', async () => {
    emulator().enqueue({ text: '{"answer":42}' });
    const schema = { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'] };
    const completion = await client.chat.completions.create({
      model: modelName(entry()),
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this image?' },
            { type: 'image_url', image_url: { url: tinyPng } },
          ],
        },
      ],
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema } },
    });
    expect(JSON.parse(completion.choices[0]?.message.content ?? '')).toEqual({ answer: 42 });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    const sent = emulator().requests[0]?.body as Record<string, unknown>;
    expect(JSON.stringify(sent)).toContain('iVBORw0KGgo');
    switch (entry().kind) {
      case 'anthropic':
        // json_schema becomes a forced tool; the emulator answers with a tool_use block, as the API does
        expect(sent['tools']).toEqual([expect.objectContaining({ name: 'json_response', input_schema: schema })]);
        expect(sent['tool_choice']).toEqual({ type: 'tool', name: 'json_response' });
        break;
      case 'gemini':
        expect(sent['generationConfig']).toMatchObject({ responseMimeType: 'application/json', responseSchema: schema });
        break;
      case 'ollama':
        expect(sent['format']).toEqual(schema);
        break;
      default:
        expect(sent['response_format']).toEqual({ type: 'json_schema', json_schema: { name: 'answer', schema } });
    }
  });

  it('embeddings where the provider has them', async () => {
    const model = entry().embeddingModel;
    if (!model) {
      await expect(client.embeddings.create({ model: modelName(entry()), input: 'x' })).rejects.toMatchObject({ status: 400 });
      return;
    }
    // The SDK asks for base64 by default and decodes it: the vectors must survive that, whatever the provider.
    const inputs = ['first', 'second'];
    const result = await client.embeddings.create({ model: modelName(entry(), model), input: inputs });
    expect(result.data).toHaveLength(2);
    const floats = await client.embeddings.create({ model: modelName(entry(), model), input: inputs, encoding_format: 'float' });
    for (const answer of [result, floats]) {
      answer.data.forEach((item, index) => {
        const expected = vectorFor(inputs[index]!, 8);
        expect(item.embedding).toHaveLength(expected.length);
        item.embedding.forEach((value, position) => expect(value).toBeCloseTo(expected[position]!, 5));
      });
    }
  });
});

describe('Gemini schema down-levelling through the gateway', () => {
  it('drops the JSON-schema keywords Gemini rejects (the emulator refuses them as the API does) and says so in x-cb-warnings', async () => {
    const gemini = fleet.emulators['google']!;
    gemini.enqueue({ toolCalls: [{ name: 'order', arguments: { item: { sku: 'A1' } } }] });
    const parameters = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      additionalProperties: false,
      properties: {
        item: { $ref: '#/$defs/Item' },
        tags: { type: 'array', items: { type: 'string' }, uniqueItems: true },
        labels: { type: 'object', propertyNames: { pattern: '^[a-z]+$' } },
      },
      $defs: { Item: { type: 'object', properties: { sku: { type: 'string' } } } },
    };
    const { data, response } = await client.chat.completions
      .create({
        model: 'google/gemini-2.0-flash',
        messages: [{ role: 'user', content: 'order A1' }],
        tools: [{ type: 'function', function: { name: 'order', parameters } }],
      })
      .withResponse();
    expect(data.choices[0]?.message.tool_calls?.[0]).toMatchObject({ function: { name: 'order', arguments: '{"item":{"sku":"A1"}}' } });
    const warnings = response.headers.get('x-cb-warnings')?.split(' | ') ?? [];
    expect(warnings.map((warning) => /keyword '([^']+)'/.exec(warning)?.[1]).sort()).toEqual([
      '$schema',
      'additionalProperties',
      'propertyNames',
      'uniqueItems',
    ]);
    const sent = gemini.requests[0]?.body as { tools: { functionDeclarations: { parameters: unknown }[] }[] };
    expect(sent.tools[0]?.functionDeclarations[0]?.parameters).toEqual({
      type: 'object',
      properties: {
        item: { type: 'object', properties: { sku: { type: 'string' } } },
        tags: { type: 'array', items: { type: 'string' } },
        labels: { type: 'object' },
      },
    });
  });
});

describe('model list', () => {
  it('lists models with providers, prices and capabilities through the SDK, and one by id', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining(['gpt-4o', 'claude-3-5-sonnet-latest', 'gemini-2.0-flash', 'llama3.2']));
    const model = (await client.models.retrieve('gpt-4o')) as unknown as {
      providers: string[];
      pricing: { input: number };
      capabilities: { tools: boolean };
    };
    // the custom OpenAI-compatible server lists gpt-4o too (discovered from its /models)
    expect(model.providers).toEqual(['openai', 'azure_openai', 'custom']);
    expect(model.pricing.input).toBeGreaterThan(0);
    expect(model.capabilities.tools).toBe(true);
    const byProvider = await client.models.retrieve('anthropic/claude-3-5-sonnet-latest');
    expect(byProvider.owned_by).toBe('anthropic');
  });

  it('answers OpenRouter clients on /api/v1 (models and chat)', async () => {
    const models = (await (await fetch(`${fleet.gateway.url}/api/v1/models`)).json()) as {
      data: Record<string, unknown>[];
    };
    const gpt = models.data.find((model) => model.id === 'openai/gpt-4o');
    expect(gpt).toMatchObject({
      id: 'openai/gpt-4o',
      context_length: 128_000,
      pricing: { prompt: '0.0000025', completion: '0.00001', input_cache_read: '0.00000125', request: '0', image: '0' },
      architecture: { modality: 'text+image->text', input_modalities: ['text', 'image'], output_modalities: ['text'] },
      top_provider: { context_length: 128_000, max_completion_tokens: 16_384, is_moderated: false },
    });
    expect(gpt?.['supported_parameters']).toEqual(
      expect.arrayContaining(['max_tokens', 'temperature', 'response_format', 'tools', 'tool_choice', 'structured_outputs']),
    );
    const embedder = models.data.find((model) => model.id === 'openai/text-embedding-3-small');
    expect(embedder).toMatchObject({ architecture: { output_modalities: ['embeddings'] }, pricing: { prompt: '0.00000002' } });
    expect(embedder?.['supported_parameters']).not.toContain('tools');
    const local = models.data.find((model) => model.id === 'ollama/llama3.2');
    expect(local).toMatchObject({ pricing: { prompt: '0', completion: '0' } });
    for (const model of models.data) {
      expect(Object.keys(model)).toEqual(
        expect.arrayContaining(['id', 'name', 'context_length', 'architecture', 'pricing', 'top_provider', 'supported_parameters']),
      );
    }
    const openRouter = new OpenAI({ baseURL: `${fleet.gateway.url}/api/v1`, apiKey: 'x', maxRetries: 0 });
    fleet.emulators['anthropic']!.enqueue({ text: 'via openrouter path' });
    const completion = await openRouter.chat.completions.create({
      model: 'anthropic/claude-3-5-sonnet-latest',
      messages: [{ role: 'user', content: 'hi' }],
      // OpenRouter's routing fields are accepted and never forwarded
      ...({ models: ['openai/gpt-4o'], provider: { allow_fallbacks: true } } as object),
    });
    expect(completion.choices[0]?.message.content).toBe('via openrouter path');
    expect(JSON.stringify(fleet.emulators['anthropic']!.requests[0]?.body)).not.toContain('allow_fallbacks');
  });

  it('discovered Ollama models are listed, priced at 0', async () => {
    const list = (await (await fetch(`${fleet.gateway.url}/v1/models`)).json()) as {
      data: { id: string; owned_by: string; pricing: { input: number | null } }[];
    };
    const llama = list.data.find((model) => model.id === 'llama3.2');
    expect(llama?.owned_by).toBe('ollama');
    expect(llama?.pricing.input).toBe(0);
  });

  it('never writes a provider key into its logs', () => {
    expect(fleet.gateway.logs.join('\n')).not.toContain(emulatorKey);
  });
});
