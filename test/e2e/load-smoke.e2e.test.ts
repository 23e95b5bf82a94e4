import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../emulators/index.js';
import type { Emulator } from '../emulators/index.js';
import { validateChunkStream } from '../support/chunk-stream-validator.js';
import { startGateway } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';

/**
 * The benchmark's smoke run, in CI: a burst of concurrent plain and streamed requests through the real
 * server. It fails if any request errors, returns something malformed or hangs — never on timing
 * (speed is measured by `npm run bench`, not asserted here).
 */
let upstream: Emulator;
let anthropic: Emulator;
let gateway: GatewayProcess;

beforeAll(async () => {
  upstream = await startEmulator({ kind: 'openai' });
  anthropic = await startEmulator({ kind: 'anthropic' });
  gateway = await startGateway({
    env: {
      OPENAI_API_KEY: 'sk-smoke-key',
      OPENAI_BASE_URL: upstream.url,
      ANTHROPIC_API_KEY: 'sk-smoke-ant',
      ANTHROPIC_BASE_URL: anthropic.url,
    },
  });
}, 60_000);
afterAll(async () => {
  await gateway?.stop();
  await upstream?.close();
  await anthropic?.close();
});

describe('load smoke', () => {
  it('answers 1,000 requests at concurrency 50 (JSON and SSE, passthrough and translated) without an error', async () => {
    let next = 0;
    const failures: string[] = [];
    const worker = async (): Promise<void> => {
      while (next < 1_000) {
        const index = next++;
        const stream = index % 2 === 0;
        const model = index % 4 < 2 ? 'gpt-4o' : 'anthropic/claude-3-5-sonnet-latest';
        const response = await fetch(`${gateway.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: `request ${index}` }] }),
          signal: AbortSignal.timeout(30_000),
        });
        const body = await response.text();
        try {
          expect(response.status).toBe(200);
          const text = stream ? validateChunkStream(body).text[0] : (JSON.parse(body).choices[0].message.content as string);
          expect(text).toMatch(new RegExp(`request ${index}$`));
        } catch (error) {
          failures.push(`${index} (${model}, stream ${stream}): ${String(error).slice(0, 200)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 50 }, worker));
    expect(failures).toEqual([]);
    expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
  }, 120_000);
});
