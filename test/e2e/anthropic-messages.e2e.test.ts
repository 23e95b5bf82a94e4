import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { validateMessageStream } from '../support/anthropic-stream-validator.js';
import { eventually } from './support/model-scripts.js';
import { modelName, startFleet, totalRequests } from './support/provider-fleet.js';
import type { Fleet } from './support/provider-fleet.js';

/**
 * `POST /v1/messages` at the edge and under stress, through the real server: bodies refused before any
 * provider is called, model names (bare, provider/model, alias), the `/anthropic` prefix, the
 * `x-cb-warnings` of dropped fields, keep-alive pings while the upstream is silent, and a client that
 * leaves mid-stream: the upstream request is cancelled and the ledger says `client_closed`.
 */
let fleet: Fleet;
let client: Anthropic;
const config = `
server: { keep_alive_interval_ms: 400 }
health: { consecutive_failures: 1000, min_samples: 1000 }
models:
  house-claude: { primary: anthropic/claude-3-5-sonnet-latest }
`;

beforeAll(async () => {
  fleet = await startFleet({}, config);
  client = new Anthropic({ baseURL: fleet.gateway.url, apiKey: 'x', maxRetries: 0, timeout: 15_000 });
}, 60_000);
afterAll(async () => {
  await fleet?.stop();
});
beforeEach(() => {
  for (const emulator of Object.values(fleet.emulators)) emulator.reset();
});

const hello = [{ role: 'user' as const, content: 'hello' }];
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => new Error('the call succeeded'),
    (error: unknown) => error,
  );

describe('requests refused at the edge, in Anthropic shape, before any provider', () => {
  it.each([
    ['no max_tokens', { model: 'gpt-4o', messages: hello }, /max_tokens/],
    ['an unknown role', { model: 'gpt-4o', max_tokens: 5, messages: [{ role: 'robot', content: 'x' }] }, /messages\[0\]\.role/],
    [
      'a PDF document',
      { model: 'gpt-4o', max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'document', source: {} }] }] },
      /'document'/,
    ],
    ['an MCP server', { model: 'gpt-4o', max_tokens: 5, messages: hello, mcp_servers: [] }, /mcp_servers/],
    [
      'a server tool',
      { model: 'gpt-4o', max_tokens: 5, messages: hello, tools: [{ type: 'bash_20250124', name: 'bash' }] },
      /tools\[0\]\.type/,
    ],
  ])('%s: 400 invalid_request_error naming the field', async (_name, body, message) => {
    const error = await failure(client.messages.create(body as never));
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', error: { type: 'error', error: { message } } });
    expect(totalRequests(fleet)).toBe(0);
  });

  it('a body that is not JSON, and an unknown model (404 with the closest names)', async () => {
    const broken = await fetch(`${fleet.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":',
    });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' }, request_id: expect.any(String) });
    const unknown = await failure(client.messages.create({ model: 'claude-3-5-sonet-latest', max_tokens: 5, messages: hello }));
    expect(unknown).toBeInstanceOf(Anthropic.NotFoundError);
    expect((unknown as Error).message).toContain('claude-3-5-sonnet-latest');
    const counted = await failure(client.messages.countTokens({ model: 'no-such-model', messages: hello }));
    expect(counted).toBeInstanceOf(Anthropic.NotFoundError);
    expect(totalRequests(fleet)).toBe(0);
  });
});

describe('model names, paths and warnings', () => {
  it('takes bare names, provider/model names and aliases, as the OpenAI route does', async () => {
    for (const [model, provider] of [
      ['claude-3-5-sonnet-latest', 'anthropic'],
      ['google/gemini-2.0-flash', 'google'],
      ['house-claude', 'anthropic'],
      ['ollama/llama3.2', 'ollama'],
    ] as const) {
      const { data, response } = await client.messages.create({ model, max_tokens: 5, messages: hello }).withResponse();
      expect(response.headers.get('x-cb-provider')).toBe(provider);
      expect(data.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining('hello') });
    }
  });

  it('serves a Claude-Code-shaped beta request (anthropic-beta, ?beta=true, cache markers, thinking) from an OpenAI backend', async () => {
    const openai = fleet.emulators['openai']!;
    openai.enqueue({ toolCalls: [{ name: 'Read', arguments: { file_path: '/src/app.ts' } }] });
    const { data, response } = await client.beta.messages
      .create({
        model: 'openai/gpt-4o',
        max_tokens: 32_000,
        betas: ['claude-code-20250219', 'interleaved-thinking-2025-05-14'],
        system: [
          { type: 'text', text: 'You are Claude Code.' },
          { type: 'text', text: 'Project instructions.', cache_control: { type: 'ephemeral' } },
        ],
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Open app.ts', cache_control: { type: 'ephemeral' } }] }],
        tools: [
          { name: 'Read', description: 'Reads a file', input_schema: { type: 'object', properties: { file_path: { type: 'string' } } } },
        ],
        metadata: { user_id: 'user_abc_session_1' },
        thinking: { type: 'enabled', budget_tokens: 4_000 },
      })
      .withResponse();
    expect(data.content).toEqual([{ type: 'tool_use', id: expect.any(String), name: 'Read', input: { file_path: '/src/app.ts' } }]);
    expect(data.stop_reason).toBe('tool_use');
    expect(response.headers.get('x-cb-warnings')).toContain('thinking (enabled) is not carried over');
    const upstream = openai.requests[0]!;
    expect(upstream.path).toBe('/v1/chat/completions');
    expect(upstream.body).toMatchObject({ model: 'gpt-4o', max_tokens: 32_000, user: 'user_abc_session_1' });
    expect(JSON.stringify(upstream.body)).not.toContain('thinking');
  });

  it('passes prompt-cache markers on to an Anthropic backend', async () => {
    const anthropic = fleet.emulators['anthropic']!;
    await client.messages.create({
      model: 'anthropic/claude-3-5-sonnet-latest',
      max_tokens: 5,
      system: [{ type: 'text', text: 'A long, stable system prompt.', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hello', cache_control: { type: 'ephemeral', ttl: '1h' } }] }],
    });
    const body = anthropic.requests[0]?.body as { system: unknown; messages: { content: unknown }[] };
    expect(body.system).toEqual([{ type: 'text', text: 'A long, stable system prompt.', cache_control: { type: 'ephemeral' } }]);
    expect(body.messages[0]?.content).toEqual([{ type: 'text', text: 'hello', cache_control: { type: 'ephemeral', ttl: '1h' } }]);
  });

  it('answers under /anthropic too, and says what it dropped in x-cb-warnings', async () => {
    const prefixed = new Anthropic({ baseURL: `${fleet.gateway.url}/anthropic`, apiKey: 'x', maxRetries: 0 });
    const { response } = await prefixed.messages
      .create({ model: 'anthropic/claude-3-5-sonnet-latest', max_tokens: 5, messages: hello, ...({ top_k: 3 } as object) })
      .withResponse();
    expect(response.headers.get('x-cb-warnings')).toContain('top_k is not carried over');
    expect((await prefixed.messages.countTokens({ model: 'gpt-4o', messages: hello })).input_tokens).toBeGreaterThan(0);
  });
});

describe('a silent upstream', () => {
  it('gets ping events before the first content, the routing facts as a comment, and a stream the SDK reads', async () => {
    fleet.emulators['anthropic']!.enqueue({ text: 'after the wait', fault: { type: 'delay', ms: 1_200 } });
    const response = await fetch(`${fleet.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'anthropic/claude-3-5-sonnet-latest', max_tokens: 20, stream: true, messages: hello }),
    });
    expect(response.headers.get('x-cb-provider')).toBe('pending');
    const body = await response.text();
    expect(body).toContain(': x-cb-provider=anthropic');
    const stream = validateMessageStream(body);
    expect(stream.pings).toBeGreaterThanOrEqual(1);
    expect(stream.text).toBe('after the wait');

    fleet.emulators['anthropic']!.enqueue({ text: 'after the wait', fault: { type: 'delay', ms: 1_200 } });
    const final = await client.messages
      .stream({ model: 'anthropic/claude-3-5-sonnet-latest', max_tokens: 20, messages: hello })
      .finalMessage();
    expect(final.content).toEqual([{ type: 'text', text: 'after the wait' }]);
  });
});

interface UsageRow {
  requestId: string;
  endpoint: string;
  status: string;
  stream: boolean;
}

describe.each([0, 1, 2, 3, 4, 5])('a client that disconnects mid-stream, provider case %i', (position) => {
  it('cancels the upstream request, and the ledger records client_closed', async () => {
    const entry = fleet.cases[position]!;
    const emulator = fleet.emulators[entry.name]!;
    const words = Array.from({ length: 40 }, (_, index) => `word${index}`).join(' ');
    emulator.enqueue({ text: words, fault: { type: 'slow-trickle', intervalMs: 100 } });
    const requestId = `messages-disconnect-${position}-${Date.now()}`;
    const stream = await client.messages.create(
      { model: modelName(entry), max_tokens: 100, messages: hello, stream: true },
      { headers: { 'x-request-id': requestId } },
    );
    let text = '';
    for await (const event of stream) {
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
      if (text.length > 0) break; // the SDK aborts the request
    }
    expect(text).toBe('word0 ');
    const upstream = () => emulator.requests.find((request) => request.method === 'POST');
    await eventually(async () => upstream()?.closedEarly === true);
    const record = async () => {
      const rows = (await (await fetch(`${fleet.gateway.url}/api/v1/usage?limit=1000`)).json()) as { data: UsageRow[] };
      return rows.data.find((row) => row.requestId === requestId);
    };
    await eventually(async () => (await record()) !== undefined);
    expect(await record()).toMatchObject({ endpoint: 'messages', status: 'client_closed', stream: true });
  });
});
