import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startEmulator } from '../emulators/index.js';
import type { Emulator } from '../emulators/index.js';
import { emulatorKey } from '../contract/provider-matrix.js';
import { eventually } from './support/model-scripts.js';
import { startGateway } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';

/**
 * The seed's `/stream` WebSocket through the real server with the `ws` client: the seed's client as
 * written, two completions multiplexed on one socket, a cancel and a disconnect that both abort the
 * upstream request (the emulator sees its connection closed early), tool calls, ping, bad input.
 */
let gateway: GatewayProcess;
let openai: Emulator;

beforeAll(async () => {
  openai = await startEmulator({ kind: 'openai', apiKey: emulatorKey });
  // The seed's client asks for `gpt-4`: here a virtual model of the config, as the spec's example config has it.
  gateway = await startGateway({
    env: { OPENAI_API_KEY: emulatorKey, OPENAI_BASE_URL: openai.url },
    configYaml: 'models:\n  gpt-4: { primary: openai/gpt-4o }\n',
  });
}, 60_000);
afterAll(async () => {
  await gateway?.stop();
  await openai?.close();
});
beforeEach(() => openai.reset());

type Message = { type: string; id?: string | null; [field: string]: unknown };

/** A socket whose messages are collected, with a way to wait for one. */
async function connect(headers: Record<string, string> = {}) {
  const socket = new WebSocket(`${gateway.url.replace('http', 'ws')}/stream`, { headers });
  const messages: Message[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(String(data)) as Message));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const waitFor = async (check: (message: Message) => boolean, timeoutMs = 8_000): Promise<Message> => {
    await eventually(async () => messages.some(check), timeoutMs);
    return messages.find(check) as Message;
  };
  return { socket, messages, waitFor, send: (message: object) => socket.send(JSON.stringify(message)) };
}

const words = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => `${prefix}${index}`).join(' ');
const upstreamPosts = () => openai.requests.filter((request) => request.method === 'POST');

describe('/stream completions', () => {
  it("runs the seed's client as written: content_chunk, thinking_status, completed with usage", async () => {
    openai.enqueue({ text: 'Hello there!' });
    const { socket, messages, waitFor, send } = await connect();
    send({ type: 'completion', model: 'gpt-4', messages: [{ role: 'user', content: 'Hello!' }] });
    const completed = await waitFor((message) => message.type === 'completed');
    const id = completed.id;
    expect(messages.find((message) => message.type === 'thinking_status')).toMatchObject({ id, status: 'thinking' });
    const text = messages
      .filter((message) => message.type === 'content_chunk')
      .map((message) => message.content)
      .join('');
    expect(text).toBe('Hello there!');
    expect(completed).toMatchObject({
      finish_reason: 'stop',
      provider: 'openai',
      usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number), total_tokens: expect.any(Number) },
    });
    socket.close();
  });

  it('multiplexes two completions by id, and a cancel aborts only its own upstream request', async () => {
    openai.setDefault((body) => {
      const prompt = JSON.stringify((body as { messages: unknown }).messages);
      return prompt.includes('first')
        ? { text: words('a', 6), fault: { type: 'slow-trickle', intervalMs: 40 } }
        : { text: words('b', 60), fault: { type: 'slow-trickle', intervalMs: 100 } };
    });
    const { socket, messages, waitFor, send } = await connect();
    send({ type: 'completion', id: 'one', model: 'gpt-4o', messages: [{ role: 'user', content: 'first' }] });
    send({ type: 'completion', id: 'two', model: 'gpt-4o', messages: [{ role: 'user', content: 'second' }] });
    await waitFor((message) => message.type === 'content_chunk' && message.id === 'two');
    await waitFor((message) => message.type === 'completed' && message.id === 'one');
    send({ type: 'cancel', id: 'two' });
    await waitFor((message) => message.type === 'cancelled' && message.id === 'two');
    const textOf = (id: string) =>
      messages
        .filter((message) => message.type === 'content_chunk' && message.id === id)
        .map((message) => message.content)
        .join('');
    expect(textOf('one')).toBe(words('a', 6));
    expect(textOf('two').length).toBeGreaterThan(0);
    expect(textOf('two').length).toBeLessThan(words('b', 60).length);
    expect(messages.some((message) => message.type === 'completed' && message.id === 'two')).toBe(false);
    // The cancelled request's upstream connection was closed; the finished one ended normally.
    await eventually(async () => upstreamPosts().filter((request) => request.closedEarly).length === 1);
    const cancelled = upstreamPosts().find((request) => request.closedEarly);
    expect(JSON.stringify(cancelled?.body)).toContain('second');
    socket.close();
  });

  it('aborts the upstream request when the client disconnects mid-completion, and the ledger says client_closed', async () => {
    openai.enqueue({ text: words('w', 60), fault: { type: 'slow-trickle', intervalMs: 100 } });
    const { socket, waitFor, send } = await connect();
    send({ type: 'completion', id: 'leaving', model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    await waitFor((message) => message.type === 'content_chunk');
    socket.terminate();
    await eventually(async () => upstreamPosts()[0]?.closedEarly === true);
    await eventually(async () => {
      const rows = (await (await fetch(`${gateway.url}/api/v1/usage?limit=100`)).json()) as {
        data: { endpoint: string; status: string }[];
      };
      return rows.data.some((row) => row.endpoint === 'stream' && row.status === 'client_closed');
    });
  });

  it('sends a tool call whole, with parsed arguments', async () => {
    openai.enqueue({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] });
    const { socket, messages, waitFor, send } = await connect();
    send({
      type: 'completion',
      id: 'tools',
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'weather?' }],
      tools: [
        { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
      ],
    });
    const completed = await waitFor((message) => message.type === 'completed');
    expect(completed).toMatchObject({ id: 'tools', finish_reason: 'tool_calls' });
    expect(messages.filter((message) => message.type === 'tool_call')).toEqual([
      { type: 'tool_call', id: 'tools', tool_call_id: expect.any(String), tool: 'get_weather', arguments: { city: 'Oslo' } },
    ]);
    socket.close();
  });
});

describe('/stream control messages and bad input', () => {
  it('answers ping with pong, subscribe with subscribed, and names what is wrong with bad messages', async () => {
    const { socket, waitFor, send } = await connect();
    socket.send('not json');
    expect(await waitFor((message) => message.type === 'error' && message.id === null)).toMatchObject({
      error: { code: 'invalid_request', message: expect.stringContaining('JSON') },
    });
    send({ type: 'ping', id: 'p1' });
    expect(await waitFor((message) => message.type === 'pong')).toEqual({ type: 'pong', id: 'p1' });
    send({ type: 'teleport', id: 'x1' });
    expect(await waitFor((message) => message.type === 'error' && message.id === 'x1')).toMatchObject({
      error: { code: 'invalid_request' },
    });
    send({ type: 'completion', id: 'nomodel', model: 'gpt-4oo', messages: [{ role: 'user', content: 'hi' }] });
    expect(await waitFor((message) => message.type === 'error' && message.id === 'nomodel')).toMatchObject({
      error: { code: 'model_not_found', message: expect.stringContaining('gpt-4o') },
    });
    send({ type: 'completion', id: 'badrole', model: 'gpt-4o', messages: [{ role: 'robot', content: 'hi' }] });
    expect(await waitFor((message) => message.type === 'error' && message.id === 'badrole')).toMatchObject({
      error: { code: 'invalid_request', param: expect.stringContaining('messages[0]') },
    });
    send({ type: 'cancel', id: 'ghost' });
    expect(await waitFor((message) => message.type === 'error' && message.id === 'ghost')).toMatchObject({ error: { code: 'not_found' } });
    send({ type: 'subscribe', instanceId: 'inst_1' });
    expect(await waitFor((message) => message.type === 'subscribed')).toMatchObject({ id: 'inst_1', topic: 'workflow.*.instance.inst_1' });
    send({ type: 'subscribe', id: 'nothing' });
    expect(await waitFor((message) => message.type === 'error' && message.id === 'nothing')).toMatchObject({
      error: { message: expect.stringContaining('instanceId or workflowId') },
    });
    expect(upstreamPosts()).toHaveLength(0);
    socket.close();
  });
});
