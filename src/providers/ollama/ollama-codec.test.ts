import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../core/chat.js';
import { ErrorCode, ProviderError } from '../../core/errors.js';
import type { StreamPart } from '../../core/stream-part.js';
import { startFixtureServer } from '../../../test/support/fixture-server.js';
import type { FixtureServer } from '../../../test/support/fixture-server.js';
import { ndjsonLinesOf } from '../../../test/support/replay.js';
import { toOllamaRequest } from './convert-request.js';
import { fromOllamaResponse } from './convert-response.js';
import { createOllamaAdapter } from './ollama-adapter.js';
import { OllamaStreamDecoder } from './ollama-stream-decoder.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

function decode(name: string, seed?: number): StreamPart[] {
  const decoder = new OllamaStreamDecoder('ollama');
  return ndjsonLinesOf(fixture(name), seed).flatMap((line) => decoder.decode(line));
}

describe('Ollama request conversion', () => {
  it('maps messages, inline images, tool calls and results, format and options (snapshot)', () => {
    const request: ChatRequest = {
      model: 'llama',
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'lookup', arguments: '{"q":"png"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_9', content: 'an image' },
      ],
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }],
      tool_choice: 'required',
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } },
      temperature: 0.1,
      max_completion_tokens: 64,
      stop: ['\n\n'],
      seed: 3,
    };
    const plan = toOllamaRequest(request, 'llama3.2', true);
    expect(plan.body).toMatchSnapshot();
    expect(plan.warnings).toEqual(['tool_choice other than auto or none is not supported by Ollama and was dropped (the model decides)']);
  });

  it('refuses image links (Ollama needs inline images) and n > 1', () => {
    expect(() =>
      toOllamaRequest(
        { model: 'l', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }] },
        'l',
        false,
      ),
    ).toThrow(/inline/);
    expect(() => toOllamaRequest({ model: 'l', messages: [{ role: 'user', content: 'x' }], n: 3 }, 'l', false)).toThrow(/`n` must be 1/);
  });
});

describe('Ollama response conversion', () => {
  it('maps tool calls (object arguments to JSON strings, generated ids) and counts', () => {
    const { response, usage } = fromOllamaResponse('ollama', JSON.parse(fixture('chat-tools.json')), 'llama3.2');
    expect(response.choices[0]?.finish_reason).toBe('tool_calls');
    expect(response.choices[0]?.message.tool_calls?.[0]?.function).toEqual({ name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect(response.created).toBe(Math.floor(Date.parse('2024-11-22T12:00:00Z') / 1000));
    expect(usage).toEqual({ promptTokens: 50, completionTokens: 12 });
  });
});

describe('Ollama stream decoding (fixtures fed in random pieces)', () => {
  it.each([1, 2, 3])('text with counts from the done line (seed %i)', (seed) => {
    const parts = decode('text.ndjson', seed);
    expect(
      parts
        .filter((part) => part.type === 'text-delta')
        .map((part) => (part.type === 'text-delta' ? part.text : ''))
        .join(''),
    ).toBe('The sky is blue');
    expect(parts.slice(-2)).toEqual([
      { type: 'usage', usage: { promptTokens: 26, completionTokens: 282 } },
      { type: 'finish', choice: 0, reason: 'stop' },
    ]);
  });

  it('tool calls across lines are numbered 0 and 1 and finish with tool_calls', () => {
    const parts = decode('tools.ndjson');
    expect(
      parts.filter((part) => part.type === 'tool-call-start').map((part) => (part.type === 'tool-call-start' ? part.index : -1)),
    ).toEqual([0, 1]);
    expect(parts.at(-1)).toEqual({ type: 'finish', choice: 0, reason: 'tool_calls' });
  });

  it('done_reason length is finish_reason length, plain and streamed', () => {
    const parts = decode('length.ndjson');
    expect(parts.slice(-2)).toEqual([
      { type: 'usage', usage: { promptTokens: 11, completionTokens: 3 } },
      { type: 'finish', choice: 0, reason: 'length' },
    ]);
    const { response } = fromOllamaResponse('ollama', JSON.parse(fixture('chat-length.json')), 'llama3.2');
    expect(response.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: 'Once upon a' } });
  });

  it('an error line is a retryable ProviderError', () => {
    expect(() => decode('error.ndjson')).toThrow(ProviderError);
  });
});

describe('Ollama adapter over HTTP', () => {
  let server: FixtureServer;
  beforeAll(async () => {
    server = await startFixtureServer();
  });
  afterAll(() => server.close());
  const adapter = () => createOllamaAdapter({ name: 'ollama', baseUrl: server.url });
  const call = {
    request: { model: 'l', messages: [{ role: 'user' as const, content: 'hi' }] },
    upstreamModel: 'llama3.2',
    apiKey: '',
    signal: AbortSignal.timeout(5_000),
    requestId: 'r',
  };

  it('always says stream true or false, and throws on a stream without its done line', async () => {
    server.serve(200, 'application/json', fixture('chat-tools.json'));
    await adapter().chat(call);
    expect(server.last?.body).toMatchObject({ stream: false, model: 'llama3.2' });
    expect(server.last?.headers['authorization']).toBeUndefined();
    server.serve(200, 'application/x-ndjson', fixture('text.ndjson').split('\n').slice(0, 2).join('\n'));
    const stream = await adapter().stream(call);
    await expect(
      (async () => {
        for await (const _part of stream) {
          // consume
        }
      })(),
    ).rejects.toMatchObject({ code: ErrorCode.upstreamMalformed });
    expect(server.last?.body).toMatchObject({ stream: true });
  });

  it('answers a missing model with a 404 that says to pull it', async () => {
    server.serve(404, 'application/json', JSON.stringify({ error: "model 'mistral' not found" }));
    await expect(adapter().chat({ ...call, upstreamModel: 'mistral' })).rejects.toMatchObject({
      status: 404,
      code: ErrorCode.unknownModel,
      message: expect.stringContaining('ollama pull mistral'),
    });
  });
});
