import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGateway } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';
import { validateChunkStream } from '../support/chunk-stream-validator.js';
import { modelName, startFleet } from './support/provider-fleet.js';
import type { Fleet } from './support/provider-fleet.js';

/**
 * The streaming contract under failure, through the real server: before the first content byte a
 * failure is a normal HTTP error; after it, an SSE error event and a clean end (never a silent
 * truncation); a stalled upstream hits the idle timeout; long silences get keep-alive comments; a
 * client that leaves cancels the upstream request.
 */
let fleet: Fleet;
let client: OpenAI;
// Retries are bounded well inside the keep-alive interval (one backoff of at most 100 ms), so a stream
// that fails before its first content byte can still be answered with a clean HTTP error.
const config = `
server: { keep_alive_interval_ms: 400 }
health: { consecutive_failures: 1000, min_samples: 1000 }
routing: { max_wait_ms: 120 }
providers:
  openai: { timeouts: { idle_ms: 1500 } }
  anthropic: { timeouts: { idle_ms: 1500 } }
  google: { timeouts: { idle_ms: 1500 } }
  ollama: { timeouts: { idle_ms: 1500 } }
  azure_openai: { timeouts: { idle_ms: 1500 } }
  custom: { timeouts: { idle_ms: 1500 } }
`;

beforeAll(async () => {
  fleet = await startFleet({}, config);
  client = new OpenAI({ baseURL: `${fleet.gateway.url}/v1`, apiKey: 'x', maxRetries: 0, timeout: 15_000 });
}, 60_000);
afterAll(async () => {
  await fleet?.stop();
});
beforeEach(() => {
  for (const emulator of Object.values(fleet.emulators)) emulator.reset();
});

async function rawStream(model: string): Promise<{ status: number; contentType: string; attempts: string | null; body: string }> {
  const response = await fetch(`${fleet.gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'go' }], stream: true }),
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    attempts: response.headers.get('x-cb-attempts'),
    body: await response.text(),
  };
}

describe.each([0, 1, 2, 3, 4, 5])('stream failures, provider case %i', (position) => {
  const entry = () => fleet.cases[position]!;
  const emulator = () => fleet.emulators[entry().name]!;

  it('a failure before the first byte is retried transparently', async () => {
    emulator().enqueue({ fault: { type: 'status', status: 503 } }, { text: 'second try' });
    const response = await fetch(`${fleet.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: modelName(entry()), messages: [{ role: 'user', content: 'go' }], stream: true }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-cb-attempts')).toBe('2');
    expect(response.headers.get('x-cb-attempt-errors')).toContain('upstream_error 503');
    expect(validateChunkStream(await response.text()).text[0]).toBe('second try');
  });

  it('a failure that persists before the first content byte is a clean HTTP error with an OpenAI body, after bounded retries', async () => {
    emulator().setDefault({ fault: { type: 'status', status: 500 } });
    const started = Date.now();
    const result = await rawStream(modelName(entry()));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.status).toBe(502);
    expect(result.contentType).toContain('application/json');
    expect(result.attempts).toBe('2');
    expect(result.body).not.toContain('data:');
    const error = (JSON.parse(result.body) as { error: { code: string; type: string; message: string } }).error;
    expect(error).toMatchObject({
      code: 'upstream_error',
      type: 'upstream_error',
      message: expect.stringMatching(/Every attempt failed \(2\)/),
    });
    expect(emulator().requests.filter((request) => request.method === 'POST')).toHaveLength(2);
  });

  it('a cut after content ends with an SSE error event, and the SDK raises it', async () => {
    emulator().enqueue({ text: 'alpha beta gamma delta epsilon zeta', fault: { type: 'cut-mid-stream', afterEvents: 5 } });
    const result = await rawStream(modelName(entry()));
    expect(result.status).toBe(200);
    const frames = result.body.trim().split('\n\n');
    expect(frames.at(-1)).toMatch(/^data: \{"error":/);
    expect(result.body).not.toContain('[DONE]');

    emulator().enqueue({ text: 'alpha beta gamma delta epsilon zeta', fault: { type: 'cut-mid-stream', afterEvents: 5 } });
    const stream = await client.chat.completions.create({
      model: modelName(entry()),
      messages: [{ role: 'user', content: 'go' }],
      stream: true,
    });
    await expect(
      (async () => {
        for await (const _chunk of stream) {
          // reading until the error
        }
      })(),
    ).rejects.toThrow();
  });

  it('an upstream that stalls after its headers hits the idle timeout, and the retry serves the stream', async () => {
    emulator().enqueue({ fault: { type: 'stall-after-headers' } }, { text: 'after the stall' });
    const started = Date.now();
    const result = await rawStream(modelName(entry()));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.status).toBe(200);
    expect(result.body).toContain(': keep-alive');
    expect(validateChunkStream(result.body).text[0]).toBe('after the stall');
  });
});

const customKey = 'sk-custom-echo-secret-123456';

describe('keep-alive and cancellation', () => {
  it('sends keep-alive comments during a slow stream, and the stream still completes', async () => {
    // gaps of 700 ms always contain a keep-alive check past the 400 ms interval (checks run every 200 ms)
    fleet.emulators['openai']!.enqueue({ text: 'slow words here', fault: { type: 'slow-trickle', intervalMs: 700 } });
    const result = await rawStream(modelName(fleet.cases[0]!));
    expect(result.body).toContain(': keep-alive');
    expect(result.body.trim().endsWith('data: [DONE]')).toBe(true);
  });

  describe('a client that disconnects', () => {
    let upstream: Server;
    let gateway: GatewayProcess;
    let upstreamClosed: Promise<void>;
    beforeAll(async () => {
      let markClosed: () => void = () => {};
      upstreamClosed = new Promise((resolve) => (markClosed = resolve));
      upstream = createServer((request, response) => {
        request.resume();
        if (request.url?.endsWith('/models')) {
          // A careless upstream that echoes the key it was sent in its error message.
          response.writeHead(400, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ error: { message: `bad key ${request.headers.authorization ?? ''}` } }));
          return;
        }
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        let count = 0;
        const timer = setInterval(() => {
          const chunk = {
            id: 'c',
            object: 'chat.completion.chunk',
            created: 1,
            model: 'slow',
            choices: [{ index: 0, delta: { content: `w${count++} ` }, finish_reason: null }],
          };
          response.write(`data: ${JSON.stringify(chunk)}\n\n`);
        }, 50);
        response.on('close', () => {
          clearInterval(timer);
          markClosed();
        });
      });
      await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
      gateway = await startGateway({
        env: { CUSTOM_LLM_ENDPOINT: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`, CUSTOM_LLM_API_KEY: customKey },
      });
    }, 30_000);
    afterAll(async () => {
      await gateway?.stop();
      upstream?.closeAllConnections();
      await new Promise((resolve) => upstream?.close(resolve));
    });

    it('never shows the provider key an upstream echoes back, in responses or logs', async () => {
      expect(gateway.logs.join('\n')).toContain('model discovery failed');
      expect(gateway.logs.join('\n')).not.toContain(customKey);
    });

    it('cancels the upstream request', async () => {
      const controller = new AbortController();
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'custom/slow', messages: [{ role: 'user', content: 'go' }], stream: true }),
        signal: controller.signal,
      });
      const reader = response.body!.getReader();
      await reader.read();
      controller.abort();
      await expect(
        Promise.race([upstreamClosed.then(() => 'closed'), new Promise((resolve) => setTimeout(() => resolve('still open'), 3_000))]),
      ).resolves.toBe('closed');
      expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
    });
  });
});
