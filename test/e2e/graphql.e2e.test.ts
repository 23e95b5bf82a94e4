import { createClient } from 'graphql-ws';
import type { Client } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startEmulator } from '../emulators/index.js';
import type { Emulator } from '../emulators/index.js';
import { emulatorKey } from '../contract/provider-matrix.js';
import { eventually } from './support/model-scripts.js';
import { startGateway } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';

/**
 * GraphQL through the real server, with real clients: plain HTTP (fetch), graphql-ws over `ws`, and
 * graphql-sse. The seed's createCompletion mutation as written; a streamed completion read over a
 * subscription on both transports; a subscriber that leaves mid-stream cancels the upstream request;
 * costUpdates and providerHealth fed by the bus; the playground for browsers; depth, cost and input
 * refusals with `extensions.code`. (Key refusals: graphql-auth.e2e.test.ts.)
 */
let gateway: GatewayProcess;
let openai: Emulator;

beforeAll(async () => {
  openai = await startEmulator({ kind: 'openai', apiKey: emulatorKey });
  gateway = await startGateway({
    env: { OPENAI_API_KEY: emulatorKey, OPENAI_BASE_URL: openai.url },
    configYaml: 'health: { consecutive_failures: 2, min_samples: 1000, open_ms: 60000 }\n',
  });
}, 60_000);
afterAll(async () => {
  await gateway?.stop();
  await openai?.close();
});
beforeEach(() => openai.reset());

interface GraphQLResponse {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string; param?: string } }[];
}

async function graphql(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse & { status: number }> {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, ...((await response.json()) as GraphQLResponse) };
}

function wsClient(): Client {
  return createClient({ url: `${gateway.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
}

/** Collects a subscription's results until it completes (or fails). */
function collect<T>(client: Client, query: string, variables: Record<string, unknown>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const results: T[] = [];
    client.subscribe<T>(
      { query, variables },
      {
        next: (value) => (value.errors ? reject(new Error(JSON.stringify(value.errors))) : results.push(value.data as T)),
        error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
        complete: () => resolve(results),
      },
    );
  });
}

const seedMutation = `
mutation SimpleCompletion {
  createCompletion(input: {
    provider: OPENAI
    model: "gpt-4"
    messages: [
      { role: USER, content: "Explain quantum computing" }
    ]
    stream: true
  }) {
    id
    content
    usage {
      promptTokens
      completionTokens
      totalTokens
    }
  }
}`;

const seedSubscription = `
subscription CompletionStream($completionId: ID!) {
  completionStream(completionId: $completionId) {
    eventType
    content
    metadata
    usage
    agentStatus {
      agentId
      status
      progress
    }
  }
}`;

type StreamEvent = {
  completionStream: { eventType: string; content: string | null; metadata: Record<string, unknown> | null; usage: unknown };
};

describe('completions', () => {
  it('answers a non-streamed createCompletion with content, usage, cost and routing, metered as graphql', async () => {
    openai.enqueue({ text: 'Qubits hold superpositions.', usage: { promptTokens: 12, completionTokens: 5 } });
    const result = await graphql(`
      mutation {
        createCompletion(
          input: {
            provider: OPENAI
            model: "gpt-4o"
            messages: [{ role: USER, content: "Explain quantum computing" }]
            temperature: 0.2
            maxTokens: 50
          }
        ) {
          id
          content
          model
          provider
          finishReason
          stream
          usage {
            promptTokens
            completionTokens
            totalTokens
            cost
          }
          routing {
            attempts
            fallbackUsed
            strategy
          }
        }
      }
    `);
    expect(result.errors).toBeUndefined();
    expect(result.data?.['createCompletion']).toMatchObject({
      content: 'Qubits hold superpositions.',
      model: 'gpt-4o',
      provider: 'openai',
      finishReason: 'stop',
      stream: false,
      usage: { promptTokens: 12, completionTokens: 5, totalTokens: 17, cost: expect.any(Number) },
      routing: { attempts: 1, fallbackUsed: false, strategy: expect.any(String) },
    });
    expect(openai.requests[0]?.body).toMatchObject({ model: 'gpt-4o', temperature: 0.2, max_tokens: 50 });
    await eventually(async () => {
      const usage = (await (await fetch(`${gateway.url}/api/v1/usage?limit=10`)).json()) as {
        data: { endpoint: string; status: string }[];
      };
      return usage.data.some((row) => row.endpoint === 'graphql' && row.status === 'ok');
    });
  });

  it('runs the seed mutation as written, then streams it over graphql-ws with the seed subscription', async () => {
    openai.enqueue({ text: 'Qubits are both at once.' });
    const started = await graphql(seedMutation);
    expect(started.errors).toBeUndefined();
    const completion = started.data?.['createCompletion'] as { id: string; content: string | null; usage: unknown };
    expect(completion).toMatchObject({ id: expect.stringMatching(/^chatcmpl-/), content: null, usage: null });
    const client = wsClient();
    try {
      const events = await collect<StreamEvent>(client, seedSubscription, { completionId: completion.id });
      const types = events.map((event) => event.completionStream.eventType);
      expect(types[0]).toBe('THINKING');
      expect(types.at(-1)).toBe('COMPLETION');
      const text = events
        .filter((event) => event.completionStream.eventType === 'CONTENT')
        .map((event) => event.completionStream.content)
        .join('');
      expect(text).toBe('Qubits are both at once.');
      const last = events.at(-1)!.completionStream;
      expect(last.content).toBe(text);
      expect(last.usage).toMatchObject({ promptTokens: expect.any(Number), totalTokens: expect.any(Number) });
      expect(last.metadata).toMatchObject({ finishReason: 'stop', provider: 'openai' });
      // provider: OPENAI + model "gpt-4" is openai/gpt-4: passed through to that provider.
      expect(openai.requests[0]?.body).toMatchObject({ model: 'gpt-4', stream: true });
    } finally {
      await client.dispose();
    }
  });

  it('streams a completion over GraphQL over SSE (graphql-sse, distinct connections)', async () => {
    openai.enqueue({ text: 'over server sent events' });
    const started = await graphql(`
      mutation {
        createCompletion(input: { model: "gpt-4o", messages: [{ role: USER, content: "hi" }], stream: true }) {
          id
        }
      }
    `);
    const id = (started.data?.['createCompletion'] as { id: string }).id;
    const client = createSseClient({ url: `${gateway.url}/graphql` });
    try {
      const events: StreamEvent[] = [];
      for await (const result of client.iterate<StreamEvent['completionStream'] extends never ? never : StreamEvent>({
        query: seedSubscription,
        variables: { completionId: id },
      })) {
        expect(result.errors).toBeUndefined();
        events.push(result.data as StreamEvent);
      }
      expect(events.at(-1)?.completionStream).toMatchObject({ eventType: 'COMPLETION', content: 'over server sent events' });
    } finally {
      client.dispose();
    }
  });

  it('cancels the upstream request when the subscriber leaves mid-stream', async () => {
    const words = Array.from({ length: 40 }, (_, index) => `word${index}`).join(' ');
    openai.enqueue({ text: words, fault: { type: 'slow-trickle', intervalMs: 100 } });
    const started = await graphql(`
      mutation {
        createCompletion(input: { model: "gpt-4o", messages: [{ role: USER, content: "hi" }], stream: true }) {
          id
        }
      }
    `);
    const id = (started.data?.['createCompletion'] as { id: string }).id;
    const client = wsClient();
    try {
      await new Promise<void>((resolve, reject) => {
        const unsubscribe = client.subscribe<StreamEvent>(
          { query: seedSubscription, variables: { completionId: id } },
          {
            next: (value) => {
              if (value.data?.completionStream.eventType === 'CONTENT') {
                unsubscribe();
                resolve();
              }
            },
            error: reject,
            complete: () => reject(new Error('the stream ended before the client left')),
          },
        );
      });
      await eventually(async () => openai.requests.find((request) => request.method === 'POST')?.closedEarly === true);
    } finally {
      await client.dispose();
    }
  });

  it('cancels the upstream request of a non-streamed createCompletion whose HTTP client leaves', async () => {
    openai.enqueue({ text: 'too late', fault: { type: 'delay', ms: 3_000 } });
    const abort = new AbortController();
    const pending = fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'mutation { createCompletion(input: { model: "gpt-4o", messages: [{ role: USER, content: "hi" }] }) { id } }',
      }),
      signal: abort.signal,
    }).catch(() => 'aborted');
    await eventually(async () => openai.requests.some((request) => request.method === 'POST'));
    abort.abort();
    expect(await pending).toBe('aborted');
    await eventually(async () => openai.requests.find((request) => request.method === 'POST')?.closedEarly === true);
  });

  it('refuses a subscription to a completion id nobody started, with not_found', async () => {
    const client = wsClient();
    try {
      await expect(collect(client, seedSubscription, { completionId: 'chatcmpl-nope' })).rejects.toThrow(/not_found/);
    } finally {
      await client.dispose();
    }
  });
});

describe('costUpdates and providerHealth', () => {
  it('publishes the cost of each finished request and the circuit opening of a failing deployment', async () => {
    const client = wsClient();
    try {
      const costs: unknown[] = [];
      const health: unknown[] = [];
      const stopCosts = client.subscribe(
        { query: 'subscription { costUpdates { type costUsd model provider promptTokens message } }' },
        {
          next: (value) => costs.push(value.data),
          error: () => undefined,
          complete: () => undefined,
        },
      );
      const stopHealth = client.subscribe(
        { query: 'subscription { providerHealth(provider: "openai") { provider model from to consecutiveFailures lastError } }' },
        {
          next: (value) => health.push(value.data),
          error: () => undefined,
          complete: () => undefined,
        },
      );
      // Let both subscriptions reach the server before anything happens.
      await new Promise((resolve) => setTimeout(resolve, 300));
      openai.enqueue({ text: 'priced' });
      await graphql(`
        mutation {
          createCompletion(input: { model: "gpt-4o-mini", messages: [{ role: USER, content: "hi" }] }) {
            id
          }
        }
      `);
      await eventually(async () => costs.length > 0);
      expect(costs[0]).toEqual({
        costUpdates: expect.objectContaining({
          type: 'COST_INCURRED',
          model: 'gpt-4o-mini',
          provider: 'openai',
          costUsd: expect.any(Number),
        }),
      });
      openai.enqueue({ fault: { type: 'status', status: 500 } }, { fault: { type: 'status', status: 500 } });
      await graphql(`
        mutation {
          createCompletion(input: { model: "openai/gpt-4o", messages: [{ role: USER, content: "hi" }] }) {
            id
          }
        }
      `);
      await graphql(`
        mutation {
          createCompletion(input: { model: "openai/gpt-4o", messages: [{ role: USER, content: "hi" }] }) {
            id
          }
        }
      `);
      await eventually(async () => health.length > 0);
      expect(health[0]).toEqual({
        providerHealth: expect.objectContaining({
          provider: 'openai',
          model: 'gpt-4o',
          from: 'CLOSED',
          to: 'OPEN',
          consecutiveFailures: 2,
        }),
      });
      stopCosts();
      stopHealth();
    } finally {
      await client.dispose();
    }
  });
});

describe('queries', () => {
  it('lists models and providers as paginated connections with health and circuit state', async () => {
    const first = await graphql(
      '{ models(first: 2) { totalCount nodes { id providers capabilities { tools } } pageInfo { hasNextPage endCursor } } }',
    );
    const page = first.data?.['models'] as {
      totalCount: number;
      nodes: { id: string }[];
      pageInfo: { hasNextPage: boolean; endCursor: string };
    };
    expect(page.nodes).toHaveLength(2);
    expect(page.pageInfo.hasNextPage).toBe(page.totalCount > 2);
    const second = await graphql('query($after: String) { models(first: 2, after: $after) { nodes { id } } }', {
      after: page.pageInfo.endCursor,
    });
    const next = (second.data?.['models'] as { nodes: { id: string }[] }).nodes;
    expect(next.map((model) => model.id)).not.toContain(page.nodes[0]!.id);
    const providers = await graphql('{ providers { nodes { name kind healthy models deployments { model state } } } }');
    expect((providers.data?.['providers'] as { nodes: unknown[] }).nodes).toEqual([
      expect.objectContaining({ name: 'openai', kind: 'openai', models: expect.any(Number) }),
    ]);
  });

  it('answers costAnalysis, metrics and budgets with the REST numbers, and sets a budget', async () => {
    // Earlier tests' ledger records land in batches: compare once both answers agree on a settled ledger.
    await eventually(async () => {
      const rest = (await (await fetch(`${gateway.url}/api/v1/costs?timeframe=last_24_hours&breakdown=provider`)).json()) as Record<
        string,
        unknown
      >;
      const costs = await graphql(
        '{ costAnalysis(timeframe: "last_24_hours", breakdown: [PROVIDER]) { totalUsd requests breakdowns { dimension groups { key costUsd } } projections { trend } } }',
      );
      expect(costs.errors).toBeUndefined();
      const graph = costs.data?.['costAnalysis'] as {
        totalUsd: number;
        requests: number;
        breakdowns: { groups: { key: string; costUsd: number }[] }[];
      };
      const byProvider = Object.fromEntries(graph.breakdowns[0]!.groups.map((group) => [group.key, group.costUsd]));
      const restDetails = Object.fromEntries(
        (rest['provider_details'] as { key: string; cost_usd: number }[]).map((group) => [group.key, group.cost_usd]),
      );
      return (
        graph.totalUsd === rest['total_usd'] &&
        graph.requests === rest['requests'] &&
        JSON.stringify(byProvider) === JSON.stringify(restDetails)
      );
    });
    const metrics = await graphql(
      '{ metrics(timeframe: "last_hour", granularity: MINUTE) { requests { total } latency { p50 } series(first: 5) { totalCount } } }',
    );
    expect(metrics.errors).toBeUndefined();
    const set = await graphql(`
      mutation {
        setBudget(input: { name: "gql-monthly", limitUsd: 25, period: MONTHLY, alerts: [{ threshold: 0.8, action: SEND_NOTIFICATION }] }) {
          id
          name
          limitUsd
          remainingUsd
          period
          isExhausted
          scope {
            type
          }
        }
      }
    `);
    expect(set.data?.['setBudget']).toMatchObject({
      name: 'gql-monthly',
      limitUsd: 25,
      period: 'MONTHLY',
      isExhausted: false,
      scope: { type: 'GLOBAL' },
    });
    const listed = await graphql('{ budgets { nodes { name } } budgetStatus(id: "gql-monthly") { limitUsd } }');
    expect(listed.data).toMatchObject({
      budgets: { nodes: expect.arrayContaining([{ name: 'gql-monthly' }]) },
      budgetStatus: { limitUsd: 25 },
    });
  });

  it('evaluates a rule and explains it; a rule that does not compile says why', async () => {
    const passed = await graphql(
      'mutation($data: JSON!) { evaluateRule(input: { rule: "review.score >= 4", data: $data }) { passed explanation } }',
      {
        data: { review: { score: 5 } },
      },
    );
    expect(passed.data?.['evaluateRule']).toMatchObject({ passed: true, explanation: expect.any(String) });
    const broken = await graphql(
      'mutation { evaluateRule(input: { rule: "review.score >=", data: { review: { score: 5 } } }) { passed issues { code message } } }',
    );
    expect(broken.data?.['evaluateRule']).toMatchObject({
      passed: false,
      issues: [expect.objectContaining({ message: expect.any(String) })],
    });
  });
});

describe('refusals with extensions.code', () => {
  it('refuses a query deeper than the limit and one costlier than the limit, before running it', async () => {
    const deep = await graphql(
      '{ providers { edges { node { deployments { model } } } pageInfo { endCursor } } }'.replace('model', 'model __typename'),
    );
    expect(deep.errors).toBeUndefined();
    const tooDeep = await graphql(
      '{ a: __type(name: "Query") { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } }',
    );
    expect(tooDeep.errors?.[0]?.extensions?.code).toBe('query_too_complex');
    const aliases = Array.from({ length: 10 }, (_, index) => `m${index}: models(first: 100) { nodes { id providers contextLength } }`).join(
      ' ',
    );
    const costly = await graphql(`{ ${aliases} }`);
    expect(costly.errors?.[0]).toMatchObject({ message: expect.stringMatching(/cost/i), extensions: { code: 'query_too_complex' } });
    expect(openai.requests).toHaveLength(0);
  });

  it('names the bad input: unknown field, bad enum, bad page size, unknown model', async () => {
    const unknownField = await graphql('{ models { nodes { colour } } }');
    expect(unknownField.errors?.[0]).toMatchObject({ message: expect.stringContaining('colour'), extensions: { code: 'invalid_request' } });
    const badEnum = await graphql('mutation { createCompletion(input: { provider: OPENAIX, model: "gpt-4o", messages: [] }) { id } }');
    expect(badEnum.errors?.[0]?.extensions?.code).toBe('invalid_request');
    const badPage = await graphql('{ models(first: 0) { totalCount } }');
    expect(badPage.errors?.[0]).toMatchObject({ extensions: { code: 'invalid_request', param: 'first' } });
    const unknownModel = await graphql(
      'mutation { createCompletion(input: { model: "gpt-4oo", messages: [{ role: USER, content: "hi" }] }) { id } }',
    );
    expect(unknownModel.errors?.[0]).toMatchObject({ message: expect.stringContaining('gpt-4o'), extensions: { code: 'model_not_found' } });
    const badJson = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query":',
    });
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({ errors: [{ extensions: { code: 'invalid_json' } }] });
    expect(openai.requests).toHaveLength(0);
  });
});

describe('the playground', () => {
  it('serves GraphiQL to a browser at /graphql, and sends a browser opening / there', async () => {
    const page = await fetch(`${gateway.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('GraphiQL');
    // Everything inline: the page works in a browser with no internet access (no CDN scripts or styles).
    expect(html).not.toMatch(/<script[^>]+src="https?:|<link[^>]+href="https?:|unpkg\.com|jsdelivr/);
    const root = await fetch(`${gateway.url}/`, { headers: { accept: 'text/html,application/xhtml+xml' }, redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/graphql');
    expect((await fetch(`${gateway.url}/`)).status).toBe(404);
  });

  it('answers a GET query', async () => {
    const response = await fetch(`${gateway.url}/graphql?query=${encodeURIComponent('{ models(first: 1) { totalCount } }')}`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as GraphQLResponse).data).toMatchObject({ models: { totalCount: expect.any(Number) } });
  });
});
