import { describe, expect, it } from 'vitest';
import type { GatewayConfig, ProviderConfig } from '../config/gateway-config.js';
import { Secret } from '../config/secret.js';
import type { ChatRequest } from '../core/chat.js';
import type { StreamPart } from '../core/stream-part.js';
import { ErrorCode, GatewayError } from '../core/errors.js';
import { upstreamFailure } from '../providers/shared/upstream-error.js';
import type { ChatCall, ChatResult, ProviderAdapter } from '../providers/spec/provider-adapter.js';
import { Catalog } from '../routing/catalog.js';
import { HealthRegistry } from '../routing/health-registry.js';
import { defaultHealthPolicy } from '../routing/health-policy.js';
import type { HealthPolicy } from '../routing/health-policy.js';
import { Router } from '../routing/router.js';
import { ChatService, dispatchOf } from './chat-service.js';

/**
 * ChatService's execution rules with an injected clock, sleep and random source: nothing here waits
 * for real time. Each provider is a fake adapter whose answers the test scripts.
 */
type Behaviour = (call: ChatCall) => Promise<ChatResult>;

interface FakeProvider {
  name: string;
  models?: { id: string; contextLength?: number }[];
  keys?: string[];
  behaviour: Behaviour;
  /** The stream's parts, in order; an Error among them is thrown there. */
  streamed?: (StreamPart | Error)[];
}

const answer = (text: string): ChatResult => ({
  response: {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 1,
    model: 'm',
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop', logprobs: null }],
  },
  usage: undefined,
  warnings: [],
});

const fail = (provider: string, status: number, headers: Record<string, string> = {}, contextLength = false) =>
  upstreamFailure({ provider, status, message: `emulated ${status}`, headers, contextLength });

function setup(
  providers: FakeProvider[],
  options: {
    routing?: Partial<GatewayConfig['routing']>;
    health?: Partial<HealthPolicy>;
    random?: () => number;
    start?: number;
  } = {},
) {
  const time = { value: options.start ?? 1_000_000 };
  const clock = { now: () => time.value };
  const sleeps: number[] = [];
  const sleep = async (ms: number): Promise<void> => {
    sleeps.push(ms);
    time.value += ms;
  };
  const calls: { provider: string; apiKey: string; model: string }[] = [];
  const configs: ProviderConfig[] = providers.map((provider) => ({
    name: provider.name,
    kind: 'openai_compatible',
    baseUrl: 'http://127.0.0.1:1/v1',
    apiKeys: (provider.keys ?? []).map((key) => new Secret(key, 'test')),
    models: provider.models ?? [{ id: 'm' }],
    deployments: {},
    headers: {},
    rateLimits: {},
    timeouts: { connectMs: 1_000, headersMs: 1_000, idleMs: 1_000 },
    discover: false,
    weight: 1,
  }));
  const catalog = new Catalog(
    providers.map((provider, index) => ({
      config: configs[index]!,
      adapter: {
        name: provider.name,
        kind: 'openai_compatible',
        passthrough: false,
        chat: async (call: ChatCall) => {
          calls.push({ provider: provider.name, apiKey: call.apiKey, model: call.upstreamModel });
          return provider.behaviour(call);
        },
        stream: async () => {
          if (!provider.streamed) throw new Error('not used');
          const script = provider.streamed;
          async function* parts(): AsyncGenerator<StreamPart> {
            for (const item of script) {
              if (item instanceof Error) throw item;
              yield item;
            }
          }
          return Object.assign(parts(), { warnings: [] as string[] });
        },
        close: async () => {},
      } satisfies ProviderAdapter,
    })),
  );
  const health = new HealthRegistry(configs, { ...defaultHealthPolicy, ...options.health }, clock);
  const routing: GatewayConfig['routing'] = {
    strategy: 'failover_chain',
    fallbacks: true,
    maxAttempts: 4,
    maxWaitMs: 2_000,
    stickyKeys: false,
    ...options.routing,
  };
  const router = new Router(catalog, health, { routing, aliases: {}, providers: configs }, clock);
  const service = new ChatService(catalog, router, health, routing, clock, async () => false, sleep, options.random ?? (() => 0.5));
  return { service, health, catalog, time, sleeps, calls };
}

const ask = (model = 'm', content = 'hello'): ChatRequest => ({ model, messages: [{ role: 'user', content }] });
const call = { requestId: 'r', signal: new AbortController().signal };

async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof GatewayError)) throw new Error(`expected a GatewayError, got ${String(error)}`);
  return error;
}

describe('ChatService backoff', () => {
  it('waits 100 ms × 2^round between rounds, capped at 1 s, each scaled by a jitter factor in [0.5, 1)', async () => {
    const draws = [0, 0.5, 0.999, 0.25, 0.75, 0.5];
    const { service, sleeps, calls } = setup([{ name: 'a', behaviour: async () => Promise.reject(fail('a', 503)) }], {
      routing: { maxAttempts: 7, maxWaitMs: 10_000 },
      health: { consecutiveFailures: 1_000, minSamples: 1_000 },
      random: () => draws.shift() ?? 0,
    });
    const error = await rejection(service.complete(ask(), call));
    expect(calls).toHaveLength(7);
    const bases = [100, 200, 400, 800, 1_000, 1_000];
    const factors = [0.5, 0.75, 0.9995, 0.625, 0.875, 0.75];
    expect(sleeps).toHaveLength(6);
    sleeps.forEach((slept, round) => {
      expect(slept).toBeCloseTo(bases[round]! * factors[round]!, 6);
      expect(slept).toBeGreaterThanOrEqual(bases[round]! / 2);
      expect(slept).toBeLessThan(bases[round]!);
    });
    expect(error).toMatchObject({
      code: ErrorCode.upstreamError,
      status: 503,
      message: expect.stringMatching(/Every attempt failed \(7\)/),
    });
    expect(error.retryAfterMs).toBeGreaterThan(0);
  });

  it('never sleeps longer in all than routing.max_wait_ms', async () => {
    const { service, sleeps } = setup([{ name: 'a', behaviour: async () => Promise.reject(fail('a', 500)) }], {
      routing: { maxAttempts: 50, maxWaitMs: 700 },
      health: { consecutiveFailures: 1_000, minSamples: 1_000 },
      random: () => 0.999,
    });
    await rejection(service.complete(ask(), call));
    expect(sleeps.reduce((sum, slept) => sum + slept, 0)).toBeLessThanOrEqual(700);
    expect(sleeps).toHaveLength(3);
  });
});

describe('ChatService when everything is cooling down', () => {
  it('waits for the earliest cooldown when it ends within max_wait_ms, then sends', async () => {
    const { service, health, sleeps, calls } = setup([{ name: 'a', keys: ['k1'], behaviour: async () => answer('after the wait') }], {
      random: () => 0,
    });
    health.keys('a').rateLimited(0, 1_500);
    const result = await service.complete(ask(), call);
    expect(result.result.response.choices[0]?.message.content).toBe('after the wait');
    expect(sleeps).toEqual([1_500]);
    expect(calls).toHaveLength(1);
  });

  it('answers 503 no_provider_available with Retry-After when the cooldown outlasts max_wait_ms, without waiting', async () => {
    const { service, health, sleeps, calls, time } = setup([{ name: 'a', keys: ['k1'], behaviour: async () => answer('never') }]);
    health.keys('a').rateLimited(0, 10_000);
    const error = await rejection(service.complete(ask(), call));
    expect(error).toMatchObject({ code: ErrorCode.noProvider, status: 503, retryAfterMs: 10_000 });
    expect(sleeps).toEqual([]);
    expect(calls).toHaveLength(0);
    expect(dispatchOf(error)?.attempts).toBe(0);
    expect(time.value).toBe(1_000_000);
  });

  it('waits once, and answers 503 when the provider cools down again beyond the remaining budget', async () => {
    const { service, health, sleeps, calls } = setup(
      [{ name: 'a', keys: ['k1'], behaviour: async () => Promise.reject(fail('a', 429, { 'retry-after': '5' })) }],
      { random: () => 0 },
    );
    health.keys('a').rateLimited(0, 1_200);
    const error = await rejection(service.complete(ask(), call));
    expect(sleeps).toEqual([1_200]);
    expect(calls).toHaveLength(1);
    expect(error).toMatchObject({ code: ErrorCode.upstreamRateLimited, status: 429, retryAfterMs: 5_000 });
  });
});

describe('ChatService failover rules', () => {
  it.each([
    [401, ErrorCode.upstreamAuthentication, 502],
    [403, ErrorCode.upstreamAuthentication, 502],
    [404, ErrorCode.invalidRequest, 404],
    [400, ErrorCode.invalidRequest, 400],
  ])('a provider %i is not retried, on another provider or later', async (status, code, clientStatus) => {
    const { service, sleeps, calls, health, catalog } = setup([
      { name: 'a', behaviour: async () => Promise.reject(fail('a', status)) },
      { name: 'b', behaviour: async () => answer('b') },
    ]);
    const error = await rejection(service.complete(ask(), call));
    expect(error).toMatchObject({ code, status: clientStatus });
    expect(calls.map((entry) => entry.provider)).toEqual(['a']);
    expect(sleeps).toEqual([]);
    expect(dispatchOf(error)).toMatchObject({ attempts: 1, attemptLog: [{ provider: 'a', outcome: `${code} ${status}` }] });
    // a client error says nothing about the deployment's health
    expect(health.circuit(catalog.resolve('a/m').deployments[0]!).snapshot().consecutiveFailures).toBe(0);
  });

  it('a context-length error skips candidates no larger and goes to a longer-context one', async () => {
    const { service, calls } = setup([
      { name: 'small', models: [{ id: 'm', contextLength: 8_000 }], behaviour: async () => Promise.reject(fail('small', 400, {}, true)) },
      { name: 'same', models: [{ id: 'm', contextLength: 8_000 }], behaviour: async () => answer('same size') },
      { name: 'large', models: [{ id: 'm', contextLength: 128_000 }], behaviour: async () => answer('long context') },
    ]);
    const result = await service.complete(ask(), call);
    expect(result.result.response.choices[0]?.message.content).toBe('long context');
    expect(calls.map((entry) => entry.provider)).toEqual(['small', 'large']);
    expect(result.attemptLog.map((attempt) => [attempt.provider, attempt.outcome])).toEqual([
      ['small', 'context_length_exceeded 400'],
      ['large', 'ok'],
    ]);
  });

  it('a context-length error with no longer candidate is returned as such, not retried', async () => {
    const { service, calls, sleeps } = setup([
      { name: 'small', models: [{ id: 'm', contextLength: 8_000 }], behaviour: async () => Promise.reject(fail('small', 400, {}, true)) },
    ]);
    const error = await rejection(service.complete(ask(), call));
    expect(error).toMatchObject({ code: ErrorCode.contextLengthExceeded, status: 400 });
    expect(calls).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('errors carry the attempts made (dispatchOf), for x-cb-attempts on error answers', async () => {
    const { service } = setup(
      [
        { name: 'a', behaviour: async () => Promise.reject(fail('a', 500)) },
        { name: 'b', behaviour: async () => Promise.reject(fail('b', 503)) },
      ],
      { routing: { maxAttempts: 2 } },
    );
    const error = await rejection(service.complete(ask(), call));
    expect(dispatchOf(error)).toMatchObject({
      attempts: 2,
      attemptLog: [
        { provider: 'a', model: 'm', outcome: 'upstream_error 500' },
        { provider: 'b', model: 'm', outcome: 'upstream_error 503' },
      ],
    });
    expect(dispatchOf(new Error('unrelated'))).toBeUndefined();
  });

  it('a half-open probe that ends in a client error releases the probe instead of blocking the circuit', async () => {
    const outcomes: (() => Promise<ChatResult>)[] = [
      async () => Promise.reject(fail('a', 500)),
      async () => Promise.reject(fail('a', 400)),
      async () => answer('recovered'),
    ];
    const { service, health, catalog, time } = setup([{ name: 'a', behaviour: () => outcomes.shift()!() }], {
      routing: { maxAttempts: 1 },
      health: { consecutiveFailures: 1, openMs: 1_000 },
    });
    const circuit = health.circuit(catalog.resolve('a/m').deployments[0]!);
    await rejection(service.complete(ask(), call));
    expect(circuit.state).toBe('open');
    time.value += 1_000;
    expect(circuit.state).toBe('half_open');
    await rejection(service.complete(ask(), call));
    expect(circuit.available()).toBe(true);
    await service.complete(ask(), call);
    expect(circuit.state).toBe('closed');
  });
});

describe('ChatService Retry-After', () => {
  const start = Date.parse('2031-03-01T10:00:00Z');

  it('reads the HTTP-date form against the injected clock: a 429 cools that key until that date', async () => {
    const { service, health } = setup(
      [
        {
          name: 'a',
          keys: ['k1', 'k2'],
          behaviour: async () => Promise.reject(fail('a', 429, { 'retry-after': new Date(start + 30_000).toUTCString() })),
        },
        { name: 'b', behaviour: async () => answer('b') },
      ],
      { start },
    );
    const result = await service.complete(ask(), call);
    expect(result.deployment.provider).toBe('b');
    expect(
      health
        .keys('a')
        .snapshot()
        .map((key) => key.coolingUntil),
    ).toEqual([start + 30_000, 0]);
  });

  it('reads the HTTP-date form of a 503 against the injected clock: the circuit opens until that date', async () => {
    const { service, health, catalog } = setup(
      [
        { name: 'a', behaviour: async () => Promise.reject(fail('a', 503, { 'retry-after': new Date(start + 45_000).toUTCString() })) },
        { name: 'b', behaviour: async () => answer('b') },
      ],
      { start, health: { openMs: 1_000 } },
    );
    await service.complete(ask(), call);
    expect(health.circuit(catalog.resolve('a/m').deployments[0]!).snapshot()).toMatchObject({ state: 'open', openUntil: start + 45_000 });
  });

  it('passes a single 429 through with Retry-After computed from the injected clock', async () => {
    const { service } = setup(
      [{ name: 'a', behaviour: async () => Promise.reject(fail('a', 429, { 'retry-after': new Date(start + 20_000).toUTCString() })) }],
      { start, routing: { maxAttempts: 1 } },
    );
    const error = await rejection(service.complete(ask(), call));
    expect(error).toMatchObject({ code: ErrorCode.upstreamRateLimited, status: 429, retryAfterMs: 20_000 });
  });
});

describe('ChatService sticky keys', () => {
  it('with routing.sticky_keys the same prompt prefix keeps its key; without, keys rotate', async () => {
    const keys = ['k1', 'k2', 'k3', 'k4'];
    const sticky = setup([{ name: 'a', keys, behaviour: async () => answer('ok') }], { routing: { stickyKeys: true } });
    for (let index = 0; index < 6; index++) await sticky.service.complete(ask('m', 'You are the same long system prompt'), call);
    expect(new Set(sticky.calls.map((entry) => entry.apiKey)).size).toBe(1);
    for (let index = 0; index < 12; index++) await sticky.service.complete(ask('m', `another prompt ${index}`), call);
    expect(new Set(sticky.calls.map((entry) => entry.apiKey)).size).toBeGreaterThan(1);

    const rotating = setup([{ name: 'a', keys, behaviour: async () => answer('ok') }]);
    for (let index = 0; index < 4; index++) await rotating.service.complete(ask('m', 'You are the same long system prompt'), call);
    expect(rotating.calls.map((entry) => entry.apiKey)).toEqual(keys);
  });

  it('a sticky key that is cooling gives way to another key', async () => {
    const keys = ['k1', 'k2', 'k3'];
    const { service, health, calls } = setup([{ name: 'a', keys, behaviour: async () => answer('ok') }], { routing: { stickyKeys: true } });
    await service.complete(ask('m', 'prefix'), call);
    const pinned = keys.indexOf(calls[0]!.apiKey);
    health.keys('a').rateLimited(pinned, 60_000);
    await service.complete(ask('m', 'prefix'), call);
    expect(calls[1]!.apiKey).not.toBe(calls[0]!.apiKey);
  });
});

describe('ChatService with a keyless provider', () => {
  it('a 429 from a provider without keys cools its deployment for the Retry-After (there is no key to cool)', async () => {
    const { service, health, catalog, time, calls } = setup(
      [
        { name: 'local', behaviour: async () => Promise.reject(fail('local', 429, { 'retry-after': '20' })) },
        { name: 'b', behaviour: async () => answer('b') },
      ],
      { health: { openMs: 1_000 } },
    );
    await service.complete(ask(), call);
    const circuit = health.circuit(catalog.resolve('local/m').deployments[0]!);
    expect(circuit.snapshot()).toMatchObject({ state: 'open', openUntil: time.value + 20_000 });
    await service.complete(ask(), call);
    expect(calls.map((entry) => entry.provider)).toEqual(['local', 'b', 'b']);
  });
});

describe('ChatService streams', () => {
  const text = (delta: string): StreamPart => ({ type: 'text-delta', choice: 0, text: delta });
  const read = async (stream: AsyncIterable<StreamPart>, limit = Number.POSITIVE_INFINITY): Promise<StreamPart[]> => {
    const parts: StreamPart[] = [];
    for await (const part of stream) {
      parts.push(part);
      if (parts.length >= limit) break;
    }
    return parts;
  };

  it('fails over before the first content, then passes every part on and counts the stream a success at its end', async () => {
    const { service, health, catalog } = setup([
      { name: 'a', behaviour: async () => answer(''), streamed: [fail('a', 503)] },
      { name: 'b', behaviour: async () => answer(''), streamed: [text('one'), text('two')] },
    ]);
    const { dispatch, stream } = await service.stream({ ...ask(), stream: true }, call);
    expect(await read(stream)).toEqual([text('one'), text('two')]);
    expect(dispatch.attemptLog.map((attempt) => attempt.outcome)).toEqual(['upstream_error 503', 'ok']);
    const b = catalog.resolve('m').deployments.find((deployment) => deployment.provider === 'b')!;
    expect(health.circuit(b).snapshot()).toMatchObject({ samples: 1, errorRate: 0 });
  });

  it('a retryable failure after the first content reaches the reader and counts against the deployment', async () => {
    const { service, health, catalog } = setup([{ name: 'a', behaviour: async () => answer(''), streamed: [text('one'), fail('a', 502)] }]);
    const { stream } = await service.stream({ ...ask(), stream: true }, call);
    const parts: StreamPart[] = [];
    await expect(
      (async () => {
        for await (const part of stream) parts.push(part);
      })(),
    ).rejects.toMatchObject({ code: ErrorCode.upstreamError });
    expect(parts).toEqual([text('one')]);
    const a = catalog.resolve('m').deployments[0]!;
    expect(health.circuit(a).snapshot()).toMatchObject({ samples: 1, errorRate: 1, lastError: expect.stringContaining('mid-stream') });
  });

  it('a reader that leaves early gives no verdict: the sample is not counted', async () => {
    const { service, health, catalog } = setup([
      { name: 'a', behaviour: async () => answer(''), streamed: [text('one'), text('two'), text('three')] },
    ]);
    const { stream } = await service.stream({ ...ask(), stream: true }, call);
    expect(await read(stream, 1)).toEqual([text('one')]);
    const a = catalog.resolve('m').deployments[0]!;
    expect(health.circuit(a).snapshot()).toMatchObject({ samples: 0 });
    // Left streams end: reading again gives nothing.
    expect(await read(stream)).toEqual([]);
  });

  it('when every attempt fails before content, the first read throws the routed error with its attempts', async () => {
    const { service } = setup([{ name: 'a', behaviour: async () => answer(''), streamed: [fail('a', 400)] }]);
    const { stream } = await service.stream({ ...ask(), stream: true }, call);
    const error = await rejection(read(stream));
    expect(error.status).toBe(400);
    expect(dispatchOf(error)?.attempts).toBe(1);
  });
});
