import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../emulators/index.js';
import type { Emulator } from '../emulators/index.js';
import { startGateway } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';

/**
 * Ollama model discovery on demand, through the real server: a model pulled after the gateway started
 * is found on its first request (one re-discovery of /api/tags); a name Ollama does not have still gets
 * a 404 with the closest names.
 */
let ollama: Emulator;
let gateway: GatewayProcess;
let client: OpenAI;

beforeAll(async () => {
  ollama = await startEmulator({ kind: 'ollama' });
  gateway = await startGateway({ env: { OLLAMA_BASE_URL: ollama.url } });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'x', maxRetries: 0 });
}, 30_000);
afterAll(async () => {
  await gateway?.stop();
  await ollama?.close();
});

const tagListings = () => ollama.requests.filter((request) => request.path === '/api/tags').length;

describe('Ollama discovery on demand', () => {
  it('finds a model pulled after start on its first request, with one re-discovery', async () => {
    expect(tagListings()).toBe(1);
    ollama.setModels(['llama3.2', 'nomic-embed-text', 'qwen2.5']);
    ollama.setDefault({ text: 'qwen answers' });
    const { data, response } = await client.chat.completions
      .create({ model: 'qwen2.5', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('qwen answers');
    expect(response.headers.get('x-cb-provider')).toBe('ollama');
    expect(response.headers.get('x-cb-model')).toBe('qwen2.5');
    expect(tagListings()).toBe(2);
    const chat = ollama.requests.find((request) => request.path === '/api/chat');
    expect(chat?.body).toMatchObject({ model: 'qwen2.5' });
    const listed: string[] = [];
    for await (const model of client.models.list()) listed.push(model.id);
    expect(listed).toContain('qwen2.5');
  });

  it('an unknown model still gets a 404 with the closest names', async () => {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'qwen2.6', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(404);
    const error = ((await response.json()) as { error: { code: string; param: string; message: string } }).error;
    expect(error).toMatchObject({ code: 'model_not_found', param: 'model' });
    expect(error.message).toMatch(/Did you mean 'qwen2\.5'/);
    // within 10 s of the last on-demand run: no new listing
    expect(tagListings()).toBe(2);
  });
});
