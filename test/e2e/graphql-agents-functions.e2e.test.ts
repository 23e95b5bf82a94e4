import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorKey } from '../contract/provider-matrix.js';
import { startEmulator } from '../emulators/index.js';
import type { Emulator } from '../emulators/index.js';
import { startGateway } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';

/**
 * Agents and functions through GraphQL on the real server: the admin key defines a function and an
 * agent, any key lists them, invokes the function and reads its executions (paged); a gateway key is
 * refused every write (`permission_denied`) and a bad definition is an `invalid_request` naming the problem.
 */
const adminKey = 'cb-admin-test-key-agents-functions-0123';
let gateway: GatewayProcess;
let openai: Emulator;
let userKey: string;

beforeAll(async () => {
  openai = await startEmulator({ kind: 'openai', apiKey: emulatorKey });
  gateway = await startGateway({ env: { CB_ADMIN_KEY: adminKey, OPENAI_API_KEY: emulatorKey, OPENAI_BASE_URL: openai.url } });
  const created = await fetch(`${gateway.url}/api/v1/keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
    body: JSON.stringify({ name: 'graphql-agents-user' }),
  });
  userKey = ((await created.json()) as { key: string }).key;
}, 60_000);
afterAll(async () => {
  await gateway?.stop();
  await openai?.close();
});

interface Result {
  data?: Record<string, any> | null; // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads nested answers
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function graphql(key: string, query: string, variables?: Record<string, unknown>): Promise<Result> {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as Result;
}

const sum = {
  name: 'sum',
  runtime: 'javascript',
  code: 'return { total: input.items.reduce((a, b) => a + b, 0) };',
  inputSchema: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: { type: 'number' } } } },
};
const writer = { id: 'writer', name: 'Writer', role: 'writes', model: 'gpt-4o-mini', systemPrompt: 'Write.', userTemplate: '{{input}}' };

describe('functions over GraphQL', () => {
  it('creates, lists, invokes, updates a function and pages its executions', async () => {
    const created = await graphql(adminKey, 'mutation($d: JSON!) { createFunction(input: { definition: $d }) { name version runtime } }', {
      d: sum,
    });
    expect(created).toEqual({ data: { createFunction: { name: 'sum', version: 1, runtime: 'javascript' } } });
    const again = await graphql(adminKey, 'mutation($d: JSON!) { createFunction(input: { definition: $d }) { name } }', { d: sum });
    expect(again.errors?.[0]?.message).toMatch(/exists/);

    const listed = await graphql(
      userKey,
      '{ functions(first: 10) { totalCount nodes { name } } fn: function(name: "sum") { version } missing: function(name: "nope") { name } }',
    );
    expect(listed.data).toEqual({ functions: { totalCount: 1, nodes: [{ name: 'sum' }] }, fn: { version: 1 }, missing: null });

    const invoke = 'mutation($i: JSON) { invokeFunction(name: "sum", input: $i) { id status output error functionVersion } }';
    const ran = await graphql(userKey, invoke, { i: { items: [1, 2, 3] } });
    expect(ran.data?.['invokeFunction']).toMatchObject({ status: 'COMPLETED', output: { total: 6 }, functionVersion: 1 });
    const bad = await graphql(userKey, invoke, { i: { items: 'x' } });
    expect(bad.data?.['invokeFunction']).toMatchObject({ status: 'FAILED', error: { code: 'invalid_input' } });

    const executions =
      '{ functionExecutions(functionName: "sum", first: 1) { totalCount nodes { id status } pageInfo { hasNextPage endCursor } } }';
    const page = (await graphql(userKey, executions)).data?.['functionExecutions'];
    expect(page).toMatchObject({ totalCount: 2, nodes: [{ status: 'FAILED' }], pageInfo: { hasNextPage: true } });
    const completed = await graphql(userKey, '{ functionExecutions(functionName: "sum", status: COMPLETED) { nodes { id } } }');
    expect(completed.data?.['functionExecutions'].nodes).toEqual([{ id: ran.data?.['invokeFunction'].id }]);

    const updated = await graphql(adminKey, 'mutation($d: JSON!) { updateFunction(name: "sum", input: { definition: $d }) { version } }', {
      d: { runtime: 'javascript', code: 'return 0' },
    });
    expect(updated).toEqual({ data: { updateFunction: { version: 2 } } });
  });

  it('refuses a broken definition with what to fix, and writes without the admin key', async () => {
    const broken = await graphql(
      adminKey,
      'mutation { createFunction(input: { definition: { name: "bad name", runtime: "cobol" } }) { name } }',
    );
    expect(broken.errors?.[0]).toMatchObject({ extensions: { code: 'invalid_request' } });
    expect(broken.errors?.[0]?.message).toMatch(/function definition is invalid/);
    for (const mutation of [
      'mutation { createFunction(input: { definition: { name: "x", runtime: "javascript", code: "return 1" } }) { name } }',
      'mutation { updateFunction(name: "sum", input: { definition: { runtime: "javascript", code: "return 1" } }) { name } }',
      'mutation { deleteFunction(name: "sum") }',
    ]) {
      const refused = await graphql(userKey, mutation);
      expect(refused.errors?.[0]?.extensions?.code, mutation).toBe('permission_denied');
    }
    expect((await graphql(userKey, '{ fn: function(name: "sum") { version } }')).data).toEqual({ fn: { version: 2 } });
    expect(await graphql(adminKey, 'mutation { deleteFunction(name: "sum") }')).toEqual({ data: { deleteFunction: true } });
    expect((await graphql(userKey, '{ functions { totalCount } }')).data).toEqual({ functions: { totalCount: 0 } });
  });
});

describe('agents over GraphQL', () => {
  it('defines, lists, versions and deletes an agent with the admin key only', async () => {
    const create = 'mutation($d: JSON!) { createAgent(input: { definition: $d }) { id version name role model } }';
    expect(await graphql(userKey, create, { d: writer })).toMatchObject({ errors: [{ extensions: { code: 'permission_denied' } }] });
    expect(await graphql(adminKey, create, { d: writer })).toEqual({
      data: { createAgent: { id: 'writer', version: 1, name: 'Writer', role: 'writes', model: 'gpt-4o-mini' } },
    });
    const invalid = await graphql(adminKey, create, { d: { id: 'bad', temperature: 9 } });
    expect(invalid.errors?.[0]).toMatchObject({ extensions: { code: 'invalid_request' } });
    expect(invalid.errors?.[0]?.message).toMatch(/temperature/);

    const update = 'mutation($d: JSON!) { updateAgent(id: "writer", input: { definition: $d }) { version model } }';
    expect(await graphql(userKey, update, { d: writer })).toMatchObject({ errors: [{ extensions: { code: 'permission_denied' } }] });
    expect(await graphql(adminKey, update, { d: { ...writer, id: undefined, model: 'gpt-4o' } })).toEqual({
      data: { updateAgent: { version: 2, model: 'gpt-4o' } },
    });
    const renamed = await graphql(adminKey, update, { d: { ...writer, id: 'other' } });
    expect(renamed.errors?.[0]?.message).toMatch(/cannot be renamed/);

    const read = await graphql(
      userKey,
      '{ agents(first: 5) { totalCount nodes { id version } } agent(id: "writer") { definition } none: agent(id: "ghost") { id } agentExecutions(agentId: "writer") { totalCount } }',
    );
    expect(read.data).toEqual({
      agents: { totalCount: 1, nodes: [{ id: 'writer', version: 2 }] },
      agent: { definition: expect.objectContaining({ model: 'gpt-4o' }) as unknown },
      none: null,
      agentExecutions: { totalCount: 0 },
    });

    expect(await graphql(userKey, 'mutation { deleteAgent(id: "writer") }')).toMatchObject({
      errors: [{ extensions: { code: 'permission_denied' } }],
    });
    expect(await graphql(adminKey, 'mutation { deleteAgent(id: "writer") }')).toEqual({ data: { deleteAgent: true } });
    expect((await graphql(userKey, '{ agents { totalCount } }')).data).toEqual({ agents: { totalCount: 0 } });
  });

  it('lists the executions of an agent a workflow ran, by agent and instance, paged', async () => {
    const summarizer = { id: 'summarizer', model: 'gpt-4o-mini', systemPrompt: 'Summarize.', userTemplate: 'Summarize {{doc}}' };
    const defined = await graphql(adminKey, 'mutation($d: JSON!) { createAgent(input: { definition: $d }) { id } }', { d: summarizer });
    expect(defined).toEqual({ data: { createAgent: { id: 'summarizer' } } });
    const workflow = {
      id: 'summarize-flow',
      name: 'summarize-flow',
      places: [{ id: 'queued' }, { id: 'done' }],
      transitions: [{ id: 'summarize', inputs: ['queued'], outputs: ['done'], action: { agent: 'summarizer' } }],
      start: 'queued',
      end: 'done',
    };
    const published = await graphql(adminKey, 'mutation($d: JSON!) { createWorkflow(input: { definition: $d }) { published analysis } }', {
      d: workflow,
    });
    expect(published.data?.['createWorkflow']).toMatchObject({ published: true });
    const runs: string[] = [];
    for (let index = 0; index < 2; index++) {
      const started = await graphql(
        userKey,
        'mutation { createWorkflowInstance(input: { workflowId: "summarize-flow", initialData: { doc: "a.pdf" } }) { id } }',
      );
      runs.push(started.data?.['createWorkflowInstance'].id as string);
    }
    const deadline = Date.now() + 15_000;
    for (;;) {
      const statuses = await Promise.all(
        runs.map(async (id) => (await graphql(userKey, `{ instance(id: "${id}") { status } }`)).data?.['instance'].status),
      );
      if (statuses.every((status) => status === 'COMPLETED')) break;
      if (Date.now() > deadline) throw new Error(`instances did not complete: ${statuses.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const all = await graphql(
      userKey,
      '{ agentExecutions(agentId: "summarizer", first: 1) { totalCount nodes { agentId status } pageInfo { hasNextPage } } }',
    );
    expect(all.data?.['agentExecutions']).toEqual({
      totalCount: 2,
      nodes: [{ agentId: 'summarizer', status: 'completed' }],
      pageInfo: { hasNextPage: true },
    });
    const one = await graphql(
      userKey,
      'query($i: ID) { agentExecutions(instanceId: $i) { nodes { instanceId transitionId promptTokens } } }',
      {
        i: runs[0],
      },
    );
    expect(one.data?.['agentExecutions'].nodes).toEqual([
      { instanceId: runs[0], transitionId: 'summarize', promptTokens: expect.any(Number) as unknown },
    ]);
  });
});

describe('stored rules over GraphQL', () => {
  it('stores versions of a named rule, reads them, evaluates one by reference, and refuses non-admin writes', async () => {
    const create = 'mutation($r: RuleInput!) { createRule(input: $r) { name version rule description } }';
    const first = await graphql(adminKey, create, { r: { name: 'big_order', rule: 'token.data.total > 100', description: 'large' } });
    expect(first).toEqual({
      data: { createRule: { name: 'big_order', version: 1, rule: 'token.data.total > 100', description: 'large' } },
    });
    const second = await graphql(adminKey, create, { r: { name: 'big_order', rule: 'token.data.total > 500' } });
    expect(second.data?.['createRule']).toMatchObject({ version: 2 });

    const read = await graphql(
      userKey,
      '{ rules(first: 5) { totalCount nodes { name version } } rule(name: "big_order") { latest { version } versions { version rule } } missing: rule(name: "nope") { latest { version } } }',
    );
    expect(read.data).toEqual({
      rules: { totalCount: 1, nodes: [{ name: 'big_order', version: 2 }] },
      rule: {
        latest: { version: 2 },
        versions: [
          { version: 1, rule: 'token.data.total > 100' },
          { version: 2, rule: 'token.data.total > 500' },
        ],
      },
      missing: null,
    });

    const evaluate = 'mutation($i: EvaluateRuleInput!) { evaluateRule(input: $i) { passed explanation } }';
    const byVersion = await graphql(userKey, evaluate, { i: { rule: { ref: 'big_order@1' }, data: { token: { data: { total: 200 } } } } });
    expect(byVersion.data?.['evaluateRule']).toMatchObject({ passed: true });
    const latest = await graphql(userKey, evaluate, { i: { rule: { ref: 'big_order' }, data: { token: { data: { total: 200 } } } } });
    expect(latest.data?.['evaluateRule']).toMatchObject({ passed: false });
    const byId = await graphql(userKey, evaluate, { i: { ruleId: 'big_order@1', data: { token: { data: { total: 200 } } } } });
    expect(byId.data?.['evaluateRule']).toMatchObject({ passed: true });
    const both = await graphql(userKey, evaluate, { i: { rule: 'true', ruleId: 'big_order', data: {} } });
    expect(both.errors?.[0]?.extensions?.code).toBe('invalid_request');

    const refused = await graphql(userKey, create, { r: { name: 'sneaky', rule: 'true' } });
    expect(refused.errors?.[0]?.extensions?.code).toBe('permission_denied');
    const broken = await graphql(adminKey, create, { r: { name: 'broken', rule: 'token.data.total >' } });
    expect(broken.errors?.[0]?.extensions?.code).toBe('invalid_request');
    expect(broken.errors?.[0]?.message).toMatch(/does not compile/);
  });
});
