import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../emulators/index.js';
import type { Emulator, Fault } from '../emulators/index.js';
import { validateChunkStream } from '../support/chunk-stream-validator.js';
import { startGateway } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';
import { eventually, scriptByModel } from './support/model-scripts.js';
import type { ModelScripts } from './support/model-scripts.js';

/**
 * Routing through the real server. The fault matrix: every upstream fault, streamed and not, on the
 * OpenAI dialect and (a reduced set) on the Anthropic and Gemini wire formats, is served by the
 * fallback or ends in a well-formed error, with the attempts in the headers, the breaker or key state
 * visible in /api/v1/providers/health, and the breaker half-opening and closing again once the provider
 * recovers. Each case has a provider and a model of its own, so the cases run concurrently. Then the
 * failover rules, the routing facts on error answers and on streams whose headers had to go out early,
 * and 200 parallel requests while one provider fails.
 */
type Dialect = 'openai' | 'anthropic' | 'gemini';

interface FaultSpec {
  name: string;
  /** The scripted fault; absent: the provider refuses connections. */
  fault?: (stream: boolean, dialect: Dialect) => Fault;
  /** What `x-cb-attempt-errors` says about the failed attempt. */
  expected: string;
  /** How the provider is left alone and comes back: its circuit, its (only) key, or not at all (no failure). */
  recovery: 'circuit' | 'key' | 'none';
  /** The failure comes after the first content byte: the client gets an SSE error event, not the fallback. */
  afterCommit?: boolean;
  /** Longest cooldown a 429 asks for, ms. */
  cooldownMs?: number;
  streams?: boolean[];
}

/** How many frames to send before cutting so that no content has gone out yet (per wire format). */
const cutBeforeContent: Record<Dialect, number> = { openai: 1, anthropic: 1, gemini: 0 };

const faults: FaultSpec[] = [
  { name: '500', fault: () => ({ type: 'status', status: 500 }), expected: 'upstream_error 500', recovery: 'circuit' },
  { name: '503', fault: () => ({ type: 'status', status: 503 }), expected: 'upstream_error 503', recovery: 'circuit' },
  {
    name: '429 with Retry-After seconds',
    fault: () => ({ type: 'status', status: 429, retryAfter: '1' }),
    expected: 'upstream_rate_limited 429',
    recovery: 'key',
    cooldownMs: 1_000,
  },
  {
    name: '429 with Retry-After HTTP date',
    fault: () => ({ type: 'status', status: 429, retryAfter: new Date(Date.now() + 2_000).toUTCString() }),
    expected: 'upstream_rate_limited 429',
    recovery: 'key',
    cooldownMs: 2_000,
  },
  { name: 'connection refused', expected: 'upstream_unavailable', recovery: 'circuit' },
  { name: 'timeout before headers', fault: () => ({ type: 'delay', ms: 1_500 }), expected: 'upstream_timeout', recovery: 'circuit' },
  { name: 'reset before headers', fault: () => ({ type: 'reset-before-headers' }), expected: 'upstream_unavailable', recovery: 'circuit' },
  { name: 'stall after headers', fault: () => ({ type: 'stall-after-headers' }), expected: 'upstream_timeout', recovery: 'circuit' },
  {
    name: 'cut mid-stream (before content)',
    fault: (stream, dialect) => (stream ? { type: 'cut-mid-stream', afterEvents: cutBeforeContent[dialect] } : { type: 'cut-mid-stream' }),
    expected: 'upstream_unavailable',
    recovery: 'circuit',
  },
  {
    name: 'malformed JSON (before content)',
    fault: () => ({ type: 'malformed-json', beforeContent: true }),
    expected: 'upstream_malformed_response',
    recovery: 'circuit',
  },
  { name: 'slow trickle', fault: () => ({ type: 'slow-trickle', intervalMs: 100 }), expected: '', recovery: 'none' },
  {
    name: 'malformed JSON after content',
    fault: () => ({ type: 'malformed-json' }),
    expected: 'upstream_malformed_response',
    recovery: 'circuit',
    afterCommit: true,
    streams: [true],
  },
  {
    name: 'cut after content',
    fault: () => ({ type: 'cut-mid-stream', afterEvents: 4 }),
    expected: 'upstream_unavailable',
    recovery: 'circuit',
    afterCommit: true,
    streams: [true],
  },
];

/** The translated path gets the faults that differ most per wire format. */
const translatedFaults = new Set(['500', '429 with Retry-After seconds', 'reset before headers', 'stall after headers']);

interface MatrixCase {
  title: string;
  dialect: Dialect;
  spec: FaultSpec;
  stream: boolean;
  provider: string;
  model: string;
}

const cases: MatrixCase[] = [];
for (const dialect of ['openai', 'anthropic', 'gemini'] as const) {
  for (const spec of faults) {
    if (dialect !== 'openai' && !translatedFaults.has(spec.name) && !spec.name.startsWith('cut mid-stream')) continue;
    for (const stream of spec.streams ?? [false, true]) {
      const index = cases.length;
      cases.push({
        title: `${dialect}: ${spec.name}, stream=${stream}`,
        dialect,
        spec,
        stream,
        provider: `c${index}`,
        model: `mx-${index}`,
      });
    }
  }
}

const timeouts = '{ idle_ms: 600, headers_ms: 600, connect_ms: 600 }';
/** Long enough that a loaded machine does not half-open a circuit between two steps of a case. */
const openMs = 3_000;

let primary: Emulator;
let backup: Emulator;
const matrixPrimaries: Partial<Record<Dialect, Emulator>> = {};
const refusing = new Map<string, Emulator>();
let matrixBackup: Emulator;
const scripts = new Map<Emulator, ModelScripts>();
let gateway: GatewayProcess;
let client: OpenAI;

beforeAll(async () => {
  primary = await startEmulator({ kind: 'openai' });
  backup = await startEmulator({ kind: 'openai' });
  matrixBackup = await startEmulator({ kind: 'openai' });
  matrixBackup.setDefault({ text: 'served by backup' });
  for (const dialect of ['openai', 'anthropic', 'gemini'] as const) {
    const emulator = await startEmulator({ kind: dialect });
    matrixPrimaries[dialect] = emulator;
    scripts.set(emulator, scriptByModel(emulator, { text: 'primary is back' }));
  }
  const matrixProviders: string[] = [];
  for (const entry of cases) {
    let url = matrixPrimaries[entry.dialect]!.url;
    if (!entry.spec.fault) {
      const down = await startEmulator({ kind: 'openai' });
      down.setDefault({ text: 'primary is back' });
      await down.refuseConnections();
      refusing.set(entry.provider, down);
      url = down.url;
    }
    const kind = entry.dialect === 'openai' ? 'openai_compatible' : entry.dialect === 'gemini' ? 'google' : 'anthropic';
    matrixProviders.push(
      `  ${entry.provider}: { kind: ${kind}, base_url: "${url}", api_key: env:KEY_1, discover: false, timeouts: ${timeouts} }`,
    );
  }
  gateway = await startGateway({
    env: { KEY_1: 'sk-primary-key-1', KEY_2: 'sk-primary-key-2', KEY_3: 'sk-primary-key-3', KEY_4: 'sk-primary-key-4' },
    configYaml: `
health: { consecutive_failures: 2, open_ms: ${openMs}, min_samples: 1000 }
routing: { max_wait_ms: 400, max_attempts: 4 }
providers:
  primary: { kind: openai_compatible, base_url: "${primary.url}", api_keys: [env:KEY_1, env:KEY_2, env:KEY_3, env:KEY_4], discover: false, timeouts: ${timeouts}, models: { small: { context_length: 1000 } } }
  backup: { kind: openai_compatible, base_url: "${backup.url}", discover: false, timeouts: ${timeouts}, models: { large: { context_length: 100000 } } }
  fallback: { kind: openai_compatible, base_url: "${matrixBackup.url}", discover: false, timeouts: ${timeouts} }
${matrixProviders.join('\n')}
models:
  long-context: { primary: primary/small, fallback: [backup/large] }
`,
  });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'x', maxRetries: 0, timeout: 15_000 });
}, 60_000);
afterAll(async () => {
  await gateway?.stop();
  for (const emulator of [primary, backup, matrixBackup, ...Object.values(matrixPrimaries), ...refusing.values()]) await emulator?.close();
});

async function post(body: object, target: GatewayProcess = gateway): Promise<Response> {
  return fetch(`${target.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

interface HealthState {
  providers: {
    name: string;
    keys: { coolingUntil: string | null; rateLimited: number }[];
    deployments: { upstreamModel: string; state: string; lastError?: string; consecutiveFailures: number }[];
  }[];
}

async function health(target: GatewayProcess = gateway): Promise<HealthState> {
  return (await (await fetch(`${target.url}/api/v1/providers/health`)).json()) as HealthState;
}

async function deploymentState(provider: string, model: string) {
  const state = await health();
  return state.providers.find((entry) => entry.name === provider)?.deployments.find((deployment) => deployment.upstreamModel === model);
}

/** What the client got: status, headers, and the text of the answer (streamed or not) or the error code. */
async function send(entry: MatrixCase): Promise<{ response: Response; body: string; text?: string; errorCode?: string }> {
  const response = await post({
    model: `${entry.provider}/${entry.model}`,
    models: [`fallback/${entry.model}`],
    messages: [{ role: 'user', content: 'hi' }],
    stream: entry.stream,
  });
  const body = await response.text();
  if (response.status !== 200) return { response, body, errorCode: (JSON.parse(body) as { error: { code: string } }).error.code };
  if (!entry.stream)
    return { response, body, text: (JSON.parse(body) as { choices: { message: { content: string } }[] }).choices[0]?.message.content };
  const last = body.trim().split('\n\n').at(-1) ?? '';
  if (last.startsWith('data: {"error"'))
    return { response, body, errorCode: (JSON.parse(last.slice(6)) as { error: { code: string } }).error.code };
  return { response, body, text: validateChunkStream(body).text[0] };
}

describe.concurrent('fault matrix', () => {
  it.for(cases)('$title', async (entry, { expect }) => {
    const { spec, provider, model } = entry;
    const emulator = matrixPrimaries[entry.dialect]!;
    const script = scripts.get(emulator)!;
    const fault = (): Fault | undefined => spec.fault?.(entry.stream, entry.dialect);
    const text = spec.afterCommit ? 'several words of primary answer' : 'primary answer words here';
    const failures = spec.recovery === 'circuit' ? 2 : 1;
    if (spec.fault) for (let index = 0; index < failures; index++) script.script(model, { text, fault: fault()! });

    const servedBy = (result: Awaited<ReturnType<typeof send>>, name: string, answer: string, attempts: number): void => {
      expect(result.response.status, result.body).toBe(200);
      expect(result.text, result.body).toBe(answer);
      expect(result.response.headers.get('x-cb-provider')).toBe(name);
      expect(result.response.headers.get('x-cb-model')).toBe(model);
      expect(result.response.headers.get('x-cb-attempts')).toBe(String(attempts));
      expect(result.body).not.toContain(': x-cb-');
    };

    // 1. The fault: served by the fallback (or, after the commit point, a well-formed error event).
    const sentAt = Date.now();
    const first = await send(entry);
    if (spec.recovery === 'none') {
      servedBy(first, provider, text, 1);
      expect(first.response.headers.get('x-cb-attempt-errors')).toBeNull();
      expect(await deploymentState(provider, model)).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
      return;
    }
    if (spec.afterCommit) {
      expect(first.response.status).toBe(200);
      expect(first.errorCode).toBe(spec.expected);
      expect(first.body).not.toContain('[DONE]');
      expect(first.body).toContain('several ');
    } else {
      servedBy(first, 'fallback', 'served by backup', 2);
      expect(first.response.headers.get('x-cb-attempt-errors')).toContain(`${provider}/${model}: ${spec.expected}`);
    }

    if (spec.recovery === 'key') {
      // 2. The only key cools for the Retry-After; meanwhile requests skip the provider without trying it.
      const state = await health();
      const key = state.providers.find((entry) => entry.name === provider)?.keys[0];
      expect(key?.rateLimited).toBe(1);
      const until = Date.parse(key?.coolingUntil ?? '');
      expect(until).toBeGreaterThanOrEqual(sentAt + spec.cooldownMs! - 1_100);
      expect(until).toBeLessThanOrEqual(Date.now() + spec.cooldownMs! + 100);
      expect(await deploymentState(provider, model)).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
      const during = await send(entry);
      if (Date.now() < until) {
        servedBy(during, 'fallback', 'served by backup', 1);
        expect(script.seen(model)).toBe(1);
      }
      // 3. After the cooldown the provider serves again.
      await eventually(async () => (await health()).providers.find((entry) => entry.name === provider)?.keys[0]?.coolingUntil === null);
      servedBy(await send(entry), provider, 'primary is back', 1);
      return;
    }

    // 2. One failure is counted, the circuit still closed; a second opens it.
    expect(await deploymentState(provider, model)).toMatchObject({ state: 'closed', consecutiveFailures: 1 });
    const second = await send(entry);
    if (spec.afterCommit) expect(second.errorCode).toBe(spec.expected);
    else servedBy(second, 'fallback', 'served by backup', 2);
    expect(await deploymentState(provider, model)).toMatchObject({ state: 'open', consecutiveFailures: 2 });
    // 3. While open, the provider is not tried at all.
    const seen = spec.fault ? script.seen(model) : 0;
    servedBy(await send(entry), 'fallback', 'served by backup', 1);
    if (spec.fault) expect(script.seen(model)).toBe(seen);
    // 4. The provider recovers; after open_ms the circuit half-opens, the probe succeeds and closes it.
    await refusing.get(provider)?.acceptConnections();
    await eventually(async () => (await deploymentState(provider, model))?.state === 'half_open');
    servedBy(await send(entry), provider, 'primary is back', 1);
    expect(await deploymentState(provider, model)).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });
});

let counter = 0;
/** A fresh model name per test, so each test has circuits of its own. */
const fresh = () => `m-${++counter}`;

describe('failover rules', () => {
  beforeEach(() => {
    primary.reset();
    backup.reset();
    backup.setDefault({ text: 'served by backup' });
  });

  it('a context-length error moves to a longer-context deployment', async () => {
    primary.enqueue({ fault: { type: 'context-length' } });
    const completion = await client.chat.completions.create({
      model: 'long-context',
      messages: [{ role: 'user', content: 'a long document…' }],
    });
    expect(completion.choices[0]?.message.content).toBe('served by backup');
  });

  it('a client error (400) is not retried elsewhere, and the error answer says what was tried', async () => {
    primary.enqueue({ fault: { type: 'status', status: 400, message: 'bad parameter' } });
    const model = fresh();
    const response = await post({ model: `primary/${model}`, models: [`backup/${model}`], messages: [{ role: 'user', content: 'hi' }] });
    expect(response.status).toBe(400);
    expect(backup.requests).toHaveLength(0);
    expect(response.headers.get('x-cb-provider')).toBe('primary');
    expect(response.headers.get('x-cb-attempts')).toBe('1');
    expect(response.headers.get('x-cb-attempt-errors')).toBe(`primary/${model}: invalid_request 400`);
  });

  it('when every candidate fails: bounded retries, then the error with Retry-After and every attempt in the headers — never a hang', async () => {
    const model = fresh();
    primary.setDefault({ fault: { type: 'status', status: 503 } });
    backup.setDefault({ fault: { type: 'status', status: 503 } });
    const started = Date.now();
    const response = await post({ model: `primary/${model}`, models: [`backup/${model}`], messages: [{ role: 'user', content: 'hi' }] });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(response.headers.get('x-cb-attempts')).toBe('4');
    const attempts = response.headers.get('x-cb-attempt-errors')?.split(' | ');
    expect(attempts).toHaveLength(4);
    expect(attempts).toEqual(expect.arrayContaining([`primary/${model}: upstream_error 503`, `backup/${model}: upstream_error 503`]));
    const error = ((await response.json()) as { error: { message: string } }).error;
    expect(error.message).toMatch(/Every attempt failed \(4\)/);
  });

  it('a streamed request that fails everywhere before any content is an HTTP error with the attempts in the headers', async () => {
    const model = fresh();
    primary.setDefault({ fault: { type: 'status', status: 500 } });
    backup.setDefault({ fault: { type: 'status', status: 500 } });
    const response = await post({
      model: `primary/${model}`,
      models: [`backup/${model}`],
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    expect(response.status).toBe(502);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.headers.get('x-cb-attempts')).toBe('4');
    expect(response.headers.get('x-cb-attempt-errors')).toContain(`backup/${model}: upstream_error 500`);
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
    await eventually(async () =>
      (await health()).providers
        .find((entry) => entry.name === 'primary')!
        .deployments.some((deployment) => deployment.upstreamModel === model && deployment.state === 'half_open'),
    );
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
    // tripped after (open, or half-open when the batch outlasted the open period on a slow machine).
    const state = await health();
    expect(['open', 'half_open']).toContain(
      state.providers.find((entry) => entry.name === 'primary')?.deployments.find((deployment) => deployment.upstreamModel === model)
        ?.state,
    );
  });
});

describe('streams whose headers a keep-alive sent before failover', () => {
  let stalling: Emulator;
  let answering: Emulator;
  let early: GatewayProcess;
  beforeAll(async () => {
    stalling = await startEmulator({ kind: 'openai' });
    answering = await startEmulator({ kind: 'openai' });
    early = await startGateway({
      configYaml: `
server: { keep_alive_interval_ms: 100 }
health: { consecutive_failures: 1000, min_samples: 1000 }
routing: { max_wait_ms: 0, max_attempts: 2 }
providers:
  stalling: { kind: openai_compatible, base_url: "${stalling.url}", discover: false, timeouts: { idle_ms: 500 } }
  answering: { kind: openai_compatible, base_url: "${answering.url}", discover: false, timeouts: { idle_ms: 500 } }
`,
    });
  }, 30_000);
  afterAll(async () => {
    await early?.stop();
    await stalling?.close();
    await answering?.close();
  });
  beforeEach(() => {
    stalling.reset();
    answering.reset();
    stalling.setDefault({ fault: { type: 'stall-after-headers' } });
    answering.setDefault({ text: 'served after the stall' });
  });
  const request = (model: string) => ({
    model: `stalling/${model}`,
    models: [`answering/${model}`],
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
  });
  const facts = (body: string): Record<string, string> => {
    const frame = body.split('\n\n').find((candidate) => candidate.startsWith(': x-cb-')) ?? '';
    return Object.fromEntries(frame.split('\n').map((line) => /^: (x-cb-[a-z-]+)=(.*)$/.exec(line)?.slice(1, 3) ?? ['', '']));
  };

  it('say the provider is pending, then give the final routing facts in an SSE comment at the commit point', async () => {
    const response = await post(request('early-1'), early);
    const body = await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get('x-cb-provider')).toBe('pending');
    expect(response.headers.get('x-cb-attempts')).toBeNull();
    expect(body.indexOf(': keep-alive')).toBeLessThan(body.indexOf(': x-cb-provider='));
    expect(body.indexOf(': x-cb-provider=')).toBeLessThan(body.indexOf('data: '));
    expect(facts(body)).toMatchObject({
      'x-cb-provider': 'answering',
      'x-cb-model': 'early-1',
      'x-cb-attempts': '2',
      'x-cb-attempt-errors': 'stalling/early-1: upstream_timeout',
    });
    expect(validateChunkStream(body).text[0]).toBe('served after the stall');
  });

  it('the official SDK reads such a stream as usual', async () => {
    const sdk = new OpenAI({ baseURL: `${early.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const stream = await sdk.chat.completions.create({ ...request('early-2'), stream: true } as OpenAI.ChatCompletionCreateParamsStreaming);
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('served after the stall');
  });

  it('when every attempt fails after early headers, the routing facts come just before the error event', async () => {
    answering.setDefault({ fault: { type: 'stall-after-headers' } });
    const response = await post(request('early-3'), early);
    const body = await response.text();
    expect(response.headers.get('x-cb-provider')).toBe('pending');
    const frames = body.trim().split('\n\n');
    expect(frames.at(-1)).toMatch(/^data: \{"error":.*"code":"upstream_timeout"/);
    expect(frames.at(-2)).toMatch(/^: x-cb-/);
    expect(facts(body)).toMatchObject({
      'x-cb-provider': 'answering',
      'x-cb-attempts': '2',
      'x-cb-attempt-errors': 'stalling/early-3: upstream_timeout | answering/early-3: upstream_timeout',
    });
  });
});
