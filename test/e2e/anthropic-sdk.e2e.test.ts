import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { validateMessageStream } from '../support/anthropic-stream-validator.js';
import { modelName, startFleet } from './support/provider-fleet.js';
import type { Fleet } from './support/provider-fleet.js';

/**
 * The official @anthropic-ai/sdk against the real server's `POST /v1/messages`, through each of the six
 * provider kinds: plain and streamed answers (`messages.stream` and `stream: true`), tool use round
 * trips, images, the system prompt, the max_tokens stop, errors before and after the first byte, and
 * `count_tokens`. Every streamed answer's raw body also passes the Anthropic stream validator.
 */
let fleet: Fleet;
let client: Anthropic;
const config = `
server: { keep_alive_interval_ms: 400 }
health: { consecutive_failures: 1000, min_samples: 1000 }
routing: { max_wait_ms: 120 }
`;

beforeAll(async () => {
  fleet = await startFleet({}, config);
  client = new Anthropic({ baseURL: fleet.gateway.url, apiKey: 'not-needed-on-loopback', maxRetries: 0, timeout: 15_000 });
}, 60_000);
afterAll(async () => {
  await fleet?.stop();
});
beforeEach(() => {
  for (const emulator of Object.values(fleet.emulators)) emulator.reset();
});

const weatherTool: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
const tinyPng = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

/** The raw SSE body of a streamed `/v1/messages` call, validated. */
async function rawStream(body: Record<string, unknown>) {
  const response = await fetch(`${fleet.gateway.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ max_tokens: 100, ...body, stream: true }),
  });
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  return { response, text: await response.text() };
}

describe.each([0, 1, 2, 3, 4, 5])('@anthropic-ai/sdk through the gateway, provider case %i', (position) => {
  const entry = () => fleet.cases[position]!;
  const emulator = () => fleet.emulators[entry().name]!;
  const model = () => modelName(entry());
  const sent = (index = 0) => emulator().requests.filter((request) => request.method === 'POST')[index]?.body as Record<string, unknown>;

  it('plain: text, usage, the system prompt where the provider wants it, and where-it-went headers', async () => {
    emulator().enqueue({ text: 'Bonjour', usage: { promptTokens: 9, completionTokens: 1 } });
    const { data, response } = await client.messages
      .create({ model: model(), max_tokens: 64, system: 'Be brief.', messages: [{ role: 'user', content: 'Say hello in French' }] })
      .withResponse();
    expect(data.content).toEqual([{ type: 'text', text: 'Bonjour' }]);
    expect(data).toMatchObject({ type: 'message', role: 'assistant', stop_reason: 'end_turn', stop_sequence: null });
    expect(data.id).toMatch(/^msg_/);
    expect(data.usage).toMatchObject({ input_tokens: 9, output_tokens: 1 });
    expect(response.headers.get('x-cb-provider')).toBe(entry().name);
    expect(response.headers.get('x-cb-model')).toBe(data.model);
    expect(response.headers.get('x-cb-attempts')).toBe('1');
    expect(response.headers.get('request-id')).toBe(response.headers.get('x-request-id'));
    expect((data as { _request_id?: string | null })._request_id).toBe(response.headers.get('request-id'));
    const body = sent();
    switch (entry().kind) {
      case 'anthropic':
        expect(body['system']).toEqual([{ type: 'text', text: 'Be brief.' }]);
        break;
      case 'gemini':
        expect(body['systemInstruction']).toEqual({ parts: [{ text: 'Be brief.' }] });
        break;
      default:
        expect((body['messages'] as unknown[])[0]).toEqual({ role: 'system', content: 'Be brief.' });
    }
  });

  it('streamed: messages.stream() and stream: true read the text; the raw stream passes the validator', async () => {
    emulator().enqueue({ text: 'streamed words arrive here', usage: { promptTokens: 4, completionTokens: 5 } });
    const stream = client.messages.stream({ model: model(), max_tokens: 64, messages: [{ role: 'user', content: 'stream please' }] });
    let text = '';
    stream.on('text', (delta) => (text += delta));
    const final = await stream.finalMessage();
    expect(text).toBe('streamed words arrive here');
    expect(final.content).toEqual([{ type: 'text', text: 'streamed words arrive here' }]);
    expect(final.usage).toMatchObject({ input_tokens: 4, output_tokens: 5 });
    expect(final.stop_reason).toBe('end_turn');

    emulator().enqueue({ text: 'raw events' });
    const events: string[] = [];
    for await (const event of await client.messages.create({
      model: model(),
      max_tokens: 64,
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    }))
      events.push(event.type);
    expect(events[0]).toBe('message_start');
    expect(events.at(-1)).toBe('message_stop');

    emulator().enqueue({ text: 'raw check' });
    const { response, text: body } = await rawStream({ model: model(), messages: [{ role: 'user', content: 'x' }] });
    expect(validateMessageStream(body).text).toBe('raw check');
    expect(response.headers.get('x-cb-provider')).toBe(entry().name);
    expect(response.headers.get('request-id')).toBeTruthy();
  });

  it('tools: parallel tool_use, plain and streamed, and the tool_result round trip', async () => {
    const calls = [
      { name: 'get_weather', arguments: { city: 'Paris' } },
      { name: 'get_weather', arguments: { city: 'Oslo' } },
    ];
    emulator().enqueue({ toolCalls: calls }, { toolCalls: calls }, { toolCalls: calls });
    const request = { model: model(), max_tokens: 200, tools: [weatherTool], messages: [{ role: 'user' as const, content: 'weather?' }] };
    const plain = await client.messages.create(request);
    const streamed = await client.messages.stream(request).finalMessage();
    const raw = validateMessageStream((await rawStream(request)).text);
    for (const message of [plain, streamed, raw]) {
      const uses = message === raw ? raw.blocks : (message as Anthropic.Message).content;
      expect(uses.filter((block) => block.type === 'tool_use').map((block) => (block as Anthropic.ToolUseBlock).input)).toEqual([
        { city: 'Paris' },
        { city: 'Oslo' },
      ]);
    }
    expect([plain.stop_reason, streamed.stop_reason, raw.stopReason]).toEqual(['tool_use', 'tool_use', 'tool_use']);

    emulator().reset();
    emulator().enqueue({ text: 'Sunny in both' });
    const uses = plain.content.filter((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
    const followUp = await client.messages.create({
      ...request,
      messages: [
        { role: 'user', content: 'weather?' },
        // the assistant turn as a client keeps it, with a text block before its calls
        { role: 'assistant', content: [{ type: 'text', text: 'Let me check.' }, ...plain.content] },
        { role: 'user', content: uses.map((use) => ({ type: 'tool_result' as const, tool_use_id: use.id, content: '{"sky":"sunny"}' })) },
      ],
    });
    expect(followUp.content).toEqual([{ type: 'text', text: 'Sunny in both' }]);
    // the tool results reached the provider in its own dialect, tied to the calls it made
    const wire = JSON.stringify(sent());
    expect(wire).toContain('sunny');
    expect(wire).toContain('Let me check.');
    if (entry().kind !== 'gemini' && entry().kind !== 'ollama') for (const use of uses) expect(wire).toContain(use.id);
  });

  it('images reach the provider; max_tokens is passed and a length stop is max_tokens, plain and streamed', async () => {
    emulator().enqueue({ text: 'A red pixel.' });
    const described = await client.messages.create({
      model: model(),
      max_tokens: 50,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this image?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: tinyPng } },
          ],
        },
      ],
    });
    expect(described.content).toEqual([{ type: 'text', text: 'A red pixel.' }]);
    expect(JSON.stringify(sent())).toContain('iVBORw0KGgo');

    emulator().enqueue({ text: 'cut off', finish: 'length' }, { text: 'cut off', finish: 'length' });
    const short = await client.messages.create({ model: model(), max_tokens: 7, messages: [{ role: 'user', content: 'long story' }] });
    expect(short.stop_reason).toBe('max_tokens');
    expect(JSON.stringify(sent(1))).toMatch(/"(max_tokens|maxOutputTokens|num_predict|max_completion_tokens)":7\b/);
    const streamed = await client.messages
      .stream({ model: model(), max_tokens: 7, messages: [{ role: 'user', content: 'long story' }] })
      .finalMessage();
    expect(streamed.stop_reason).toBe('max_tokens');
  });

  it('errors: upstream failure before the first byte is an Anthropic error; after it, an error event the SDK raises', async () => {
    emulator().setDefault({ fault: { type: 'status', status: 500 } });
    const failed = await client.messages.create({ model: model(), max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(Anthropic.APIError);
    expect(failed).toMatchObject({ status: 502, type: 'api_error', error: { type: 'error', error: { type: 'api_error' } } });
    const early = await fetch(`${fleet.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: model(), max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(early.status).toBe(502);
    expect(early.headers.get('content-type')).toContain('application/json');
    expect(await early.json()).toMatchObject({ type: 'error', error: { type: 'api_error' }, request_id: early.headers.get('request-id') });

    emulator().reset();
    emulator().enqueue({ text: 'alpha beta gamma delta epsilon zeta', fault: { type: 'cut-mid-stream', afterEvents: 5 } });
    const cut = await client.messages.stream({ model: model(), max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    await expect(cut.finalMessage()).rejects.toBeInstanceOf(Anthropic.APIError);
    emulator().enqueue({ text: 'alpha beta gamma delta epsilon zeta', fault: { type: 'cut-mid-stream', afterEvents: 5 } });
    const body = (await rawStream({ model: model(), messages: [{ role: 'user', content: 'x' }] })).text;
    const validated = validateMessageStream(body, { allowError: true });
    expect(validated.error?.type).toBe('api_error');
    expect(validated.text.length).toBeGreaterThan(0);
  });

  it('count_tokens counts system, messages and tools without calling the provider', async () => {
    const base = { model: model(), system: 'You are a weather bot.', messages: [{ role: 'user' as const, content: 'Weather in Paris?' }] };
    const plain = await client.messages.countTokens(base);
    const withTools = await client.messages.countTokens({ ...base, tools: [weatherTool] });
    expect(plain.input_tokens).toBeGreaterThan(5);
    expect(withTools.input_tokens).toBeGreaterThan(plain.input_tokens + 10);
    expect(emulator().requests.filter((request) => request.method === 'POST')).toHaveLength(0);
  });
});
