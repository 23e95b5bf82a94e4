import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../emulators/index.js';
import type { Emulator, Fault } from '../emulators/index.js';
import { validateChunkStream } from '../support/chunk-stream-validator.js';
import { startGateway } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';

/**
 * Routing through the real server: every upstream fault, streamed and not, is served by the fallback
 * (or ends in a clear error), with the attempts in the headers and the breaker state visible; breakers
 * open, half-open and close; 200 parallel requests while one provider fails all get answers.
 */
let primary: Emulator;
let backup: Emulator;
let gateway: GatewayProcess;
let client: OpenAI;

beforeAll(async () => {
  primary = await startEmulator({ kind: 'openai' });
  backup = await startEmulator({ kind: 'openai' });
  const timeouts = '{ idle_ms: 600, headers_ms: 600, connect_ms: 600 }';
  gateway = await startGateway({
    env: { KEY_1: 'sk-primary-key-1', KEY_2: 'sk-primary-key-2', KEY_3: 'sk-primary-key-3', KEY_4: 'sk-primary-key-4' },
    configYaml: `
health: { consecutive_failures: 2, open_ms: 500, min_samples: 1000 }
routing: { max_wait_ms: 400, max_attempts: 4 }
providers:
  primary: { kind: openai_compatible, base_url: "${primary.url}", api_keys: [env:KEY_1, env:KEY_2, env:KEY_3, env:KEY_4], discover: false, timeouts: ${timeouts}, models: { small: { context_length: 1000 } } }
  backup: { kind: openai_compatible, base_url: "${backup.url}", discover: false, timeouts: ${timeouts}, models: { large: { context_length: 100000 } } }
  dead: { kind: openai_compatible, base_url: "http://127.0.0.1:1/v1", discover: false, timeouts: ${timeouts} }
models:
  long-context: { primary: primary/small, fallback: [backup/large] }
`,
  });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'x', maxRetries: 0, timeout: 15_000 });
}, 60_000);
afterAll(async () => {
  await gateway?.stop();
  await primary?.close();
  await backup?.close();
});
beforeEach(() => {
  primary.reset();
  backup.reset();
  backup.setDefault({ text: 'served by backup' });
});

let counter = 0;
/** A fresh model name per test, so each test has circuits of its own. */
const fresh = () => `m-${++counter}`;

async function post(body: object): Promise<Response> {
  return fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function health(): Promise<{
  providers: {
    name: string;
    keys: { coolingUntil: string | null }[];
    deployments: { upstreamModel: string; state: string; lastError?: string; consecutiveFailures: number }[];
  }[];
}> {
  return (await (await fetch(`${gateway.url}/api/v1/providers/health`)).json()) as never;
}

const retryAfterDate = () => new Date(Date.now() + 2_000).toUTCString();
const faults: [string, () => Fault, string][] = [
  ['500', () => ({ type: 'status', status: 500 }), 'upstream_error 500'],
  ['503', () => ({ type: 'status', status: 503 }), 'upstream_error 503'],
  ['429 with Retry-After seconds', () => ({ type: 'status', status: 429, retryAfter: '1' }), 'upstream_rate_limited 429'],
  ['429 with Retry-After date', () => ({ type: 'status', status: 429, retryAfter: retryAfterDate() }), 'upstream_rate_limited 429'],
  ['reset before headers', () => ({ type: 'reset-before-headers' }), 'upstream_unavailable'],
  ['timeout before headers', () => ({ type: 'delay', ms: 1_500 }), 'upstream_timeout'],
  ['stall after headers', () => ({ type: 'stall-after-headers' }), 'upstream_timeout'],
  ['cut before content', () => ({ type: 'cut-mid-stream', afterEvents: 1 }), 'upstream_'],
  ['malformed JSON', () => ({ type: 'malformed-json' }), 'upstream_malformed_response'],
];

describe.each([false, true])('fault matrix, stream=%s', (stream) => {
  it.each(faults)('%s on the primary is served by the fallback', async (name, fault, expected) => {
    const model = fresh();
    if (stream && name === 'malformed JSON') {
      // The emulator garbles the stream after its first content: past the commit point, so the client gets an error event.
      primary.enqueue({ text: 'primary answer words here', fault: fault() });
      const response = await post({
        model: `primary/${model}`,
        models: [`backup/${model}`],
        messages: [{ role: 'user', content: 'hi' }],
        stream,
      });
      const body = await response.text();
      expect(body.trim().split('\n\n').at(-1)).toMatch(/^data: \{"error":.*"code":"upstream_malformed_response"/);
      expect(body).not.toContain('[DONE]');
      return;
    }
    primary.enqueue({ text: 'primary answer words here', fault: fault() });
    const response = await post({
      model: `primary/${model}`,
      models: [`backup/${model}`],
      messages: [{ role: 'user', content: 'hi' }],
      stream,
    });
    const body = await response.text();
    expect(response.status, body).toBe(200);
    if (stream) expect(validateChunkStream(body).text[0]).toBe('served by backup');
    else expect(JSON.parse(body).choices[0].message.content).toBe('served by backup');
    expect(response.headers.get('x-cb-provider')).toBe('backup');
    expect(response.headers.get('x-cb-attempts')).toBe('2');
    expect(response.headers.get('x-cb-attempt-errors')).toContain(`primary/${model}: ${expected}`);
    const state = await health();
    const provider = state.providers.find((entry) => entry.name === 'primary');
    if (expected.startsWith('upstream_rate_limited')) {
      expect(provider?.keys.some((key) => key.coolingUntil !== null)).toBe(true);
    } else {
      expect(provider?.deployments.find((deployment) => deployment.upstreamModel === model)).toMatchObject({
        consecutiveFailures: 1,
        state: 'closed',
      });
    }
  });

  it('a slow trickle is not a failure: the primary serves it', async () => {
    primary.enqueue({ text: 'slow but fine', fault: { type: 'slow-trickle', intervalMs: 100 } });
    const response = await post({ model: `primary/${fresh()}`, models: ['backup/x'], messages: [{ role: 'user', content: 'hi' }], stream });
    const body = await response.text();
    expect(response.headers.get('x-cb-provider')).toBe('primary');
    expect(response.headers.get('x-cb-attempts')).toBe('1');
    if (stream) expect(validateChunkStream(body).text[0]).toBe('slow but fine');
  });

  it('connection refused fails over', async () => {
    const response = await post({
      model: 'dead/anything',
      models: ['backup/anything'],
      messages: [{ role: 'user', content: 'hi' }],
      stream,
    });
    await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get('x-cb-attempt-errors')).toContain('dead/anything: upstream_unavailable');
  });
});

describe('failover rules', () => {
  it('a context-length error moves to a longer-context deployment', async () => {
    primary.enqueue({ fault: { type: 'context-length' } });
    const completion = await client.chat.completions.create({
      model: 'long-context',
      messages: [{ role: 'user', content: 'a long document…' }],
    });
    expect(completion.choices[0]?.message.content).toBe('served by backup');
  });

  it('a client error (400) is not retried elsewhere', async () => {
    primary.enqueue({ fault: { type: 'status', status: 400, message: 'bad parameter' } });
    const model = fresh();
    const response = await post({ model: `primary/${model}`, models: [`backup/${model}`], messages: [{ role: 'user', content: 'hi' }] });
    expect(response.status).toBe(400);
    expect(backup.requests).toHaveLength(0);
  });

  it('when every candidate fails: bounded retries, then the error with Retry-After — never a hang', async () => {
    const model = fresh();
    primary.setDefault({ fault: { type: 'status', status: 503 } });
    backup.setDefault({ fault: { type: 'status', status: 503 } });
    const started = Date.now();
    const response = await post({ model: `primary/${model}`, models: [`backup/${model}`], messages: [{ role: 'user', content: 'hi' }] });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    const error = ((await response.json()) as { error: { message: string } }).error;
    expect(error.message).toMatch(/Every attempt failed \(4\)/);
  });

  it('the breaker opens after repeated failures, skips the provider, half-opens after the cooldown, and closes on success', async () => {
    const model = fresh();
    const request = { model: `primary/${model}`, models: [`backup/${model}`], messages: [{ role: 'user', content: 'hi' }] };
    primary.enqueue({ fault: { type: 'status', status: 500 } }, { fault: { type: 'status', status: 500 } });
    for (let index = 0; index < 2; index++) expect((await post(request)).headers.get('x-cb-attempts')).toBe('2');
    let state = await health();
    expect(
      state.providers.find((entry) => entry.name === 'primary')?.deployments.find((deployment) => deployment.upstreamModel === model)
        ?.state,
    ).toBe('open');
    const skipped = await post(request);
    expect(skipped.headers.get('x-cb-provider')).toBe('backup');
    expect(skipped.headers.get('x-cb-attempts')).toBe('1');
    expect(primary.requests).toHaveLength(2);
    const explain = (await (
      await fetch(`${gateway.url}/api/v1/route/explain`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
      })
    ).json()) as {
      candidates: { provider: string }[];
      rejected: { provider: string; reason: string; availableAt: string | null }[];
    };
    expect(explain.candidates.map((candidate) => candidate.provider)).toEqual(['backup']);
    expect(explain.rejected[0]).toMatchObject({ provider: 'primary', reason: expect.stringContaining('circuit open') });
    expect(explain.rejected[0]?.availableAt).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 600));
    primary.enqueue({ text: 'primary is back' });
    const probe = await post(request);
    expect(probe.headers.get('x-cb-provider')).toBe('primary');
    state = await health();
    expect(
      state.providers.find((entry) => entry.name === 'primary')?.deployments.find((deployment) => deployment.upstreamModel === model)
        ?.state,
    ).toBe('closed');
  });

  it('200 parallel requests while the primary fails: every one is answered, none hangs', async () => {
    const model = fresh();
    primary.setDefault({ fault: { type: 'status', status: 500 } });
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        post({
          model: `primary/${model}`,
          models: [`backup/${model}`],
          messages: [{ role: 'user', content: `n${index}` }],
          stream: index % 2 === 0,
        }).then(async (response) => ({
          status: response.status,
          body: await response.text(),
        })),
      ),
    );
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(results.filter((result) => result.status === 200)).toHaveLength(200);
    const text = (result: { body: string }): string =>
      result.body.startsWith('data:')
        ? (validateChunkStream(result.body).text[0] ?? '')
        : (JSON.parse(result.body).choices[0].message.content as string);
    const unserved = results.filter((result) => text(result) !== 'served by backup');
    expect(unserved.map((result) => result.body.slice(0, 300))).toEqual([]);
    // Requests already in flight when the primary started failing still try it once; the circuit has
    // tripped after (open, or half-open when the batch outlasted the 500 ms open period on a slow machine).
    const state = await health();
    expect(['open', 'half_open']).toContain(
      state.providers.find((entry) => entry.name === 'primary')?.deployments.find((deployment) => deployment.upstreamModel === model)
        ?.state,
    );
  });
});
