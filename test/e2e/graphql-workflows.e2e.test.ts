import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { eventually } from './support/model-scripts.js';
import { startGateway } from './support/gateway-process.js';
import type { GatewayProcess } from './support/gateway-process.js';

/**
 * Workflows through GraphQL and /stream, on the real server: the seed's createWorkflowInstance
 * mutations as written, a workflowStream subscription that sees the transition and the completion,
 * availableTransitions with guard verdicts, fireTransition with expectedRevision, the history pages,
 * a definition refused with its analysis, and /stream's subscribe.
 */
let gateway: GatewayProcess;

beforeAll(async () => {
  gateway = await startGateway();
}, 60_000);
afterAll(async () => {
  await gateway?.stop();
});

interface Result {
  data?: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads nested answers
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function graphql(query: string, variables?: Record<string, unknown>): Promise<Result> {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as Result;
}

const definition = (id: string) => ({
  id,
  name: id,
  places: [{ id: 'queued' }, { id: 'done' }],
  transitions: [{ id: 'publish', inputs: ['queued'], outputs: ['done'], trigger: 'manual', guard: 'data.topic != ""' }],
  start: 'queued',
  end: 'done',
});

const create = `mutation($definition: JSON!) { createWorkflow(input: { definition: $definition }) {
  published workflow { id version places { id } transitions { id } } analysis } }`;

describe('workflows over GraphQL', () => {
  it('publishes workflows, refuses a broken definition with its analysis, and lists them', async () => {
    for (const id of ['research_and_summarize', 'content_pipeline']) {
      const published = await graphql(create, { definition: definition(id) });
      expect(published.errors).toBeUndefined();
      expect(published.data?.['createWorkflow']).toMatchObject({
        published: true,
        workflow: { id, version: 1, places: [{ id: 'queued' }, { id: 'done' }] },
      });
    }
    const broken = await graphql(create, { definition: { ...definition('broken'), end: 'nowhere' } });
    expect(broken.data?.['createWorkflow']).toMatchObject({ published: false, workflow: null, analysis: expect.anything() });
    const updated = await graphql(
      `
        mutation ($definition: JSON!) {
          updateWorkflow(id: "content_pipeline", input: { definition: $definition }) {
            published
            workflow {
              version
            }
          }
        }
      `,
      {
        definition: definition('content_pipeline'),
      },
    );
    expect(updated.data?.['updateWorkflow']).toEqual({ published: true, workflow: { version: 2 } });
    const listed = await graphql(
      '{ workflows(first: 10) { totalCount nodes { id version } } workflow(id: "content_pipeline", version: 1) { version } }',
    );
    expect(listed.data?.['workflows'].nodes).toEqual(expect.arrayContaining([{ id: 'research_and_summarize', version: 1 }]));
    expect(listed.data?.['workflow']).toEqual({ version: 1 });
  });

  it('lists the agents of an instance with their roles and the status of their runs', async () => {
    const agentNet = {
      id: 'gql_agents',
      name: 'agents',
      places: [{ id: 'topic' }, { id: 'researched' }],
      transitions: [
        {
          id: 'research',
          inputs: ['topic'],
          outputs: ['researched'],
          trigger: 'automatic',
          action: { agent: { id: 'gql_researcher', role: 'researcher', model: 'openai/gpt-4o', userTemplate: 'Research {topic}' } },
        },
      ],
      start: 'topic',
      end: 'researched',
    };
    const published = await graphql(create, { definition: agentNet });
    expect(published.errors).toBeUndefined();
    expect(published.data?.['createWorkflow']).toMatchObject({ published: true });
    const started = await graphql(
      'mutation { createWorkflowInstance(input: { workflowId: "gql_agents", initialData: { topic: "petri nets" } }) { id agents { id role status } } }',
    );
    const instance = started.data?.['createWorkflowInstance'] as { id: string; agents: { id: string; role: string; status: string }[] };
    expect(instance.agents).toEqual([
      { id: 'gql_researcher', role: 'researcher', status: expect.stringMatching(/^(pending|running|failed)$/) },
    ]);
    // No provider serves the model here, so the run fails; the instance's agents say so once it is recorded.
    await eventually(async () => {
      const read = await graphql(`{ instance(id: "${instance.id}") { agents { id role status } } }`);
      return (read.data?.['instance'] as { agents: { status: string }[] }).agents[0]?.status === 'failed';
    }, 30_000);
  });

  it("runs the seed's mutations as written, streams the instance, fires with expectedRevision and pages its history", async () => {
    const seed = await graphql(`
      mutation WorkflowCompletion {
        createWorkflowInstance(
          input: {
            workflowId: "research_and_summarize"
            initialData: { topic: "quantum computing", depth: "intermediate", audience: "software engineers" }
          }
        ) {
          id
          currentPlace
          streamUrl
        }
      }
    `);
    expect(seed.errors).toBeUndefined();
    const instance = seed.data?.['createWorkflowInstance'] as { id: string; currentPlace: string; streamUrl: string };
    expect(instance).toEqual({
      id: expect.any(String),
      currentPlace: 'queued',
      streamUrl: `/api/v1/workflows/instances/${instance.id}/events`,
    });

    const multi = await graphql(`
      mutation MultiAgentTask {
        createWorkflowInstance(
          input: {
            workflowId: "content_pipeline"
            initialData: { topic: "AI trends 2024", steps: ["research", "outline", "write", "review", "edit"] }
          }
        ) {
          id
          agents {
            id
            role
            status
          }
          streamUrl
        }
      }
    `);
    expect(multi.data?.['createWorkflowInstance']).toMatchObject({
      id: expect.any(String),
      agents: [],
      streamUrl: expect.stringContaining('/events'),
    });

    const client = createClient({ url: `${gateway.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    const events: { eventType: string; transitionId: string | null; fromPlace: string | null; toPlace: string | null; result: unknown }[] =
      [];
    const ended = new Promise<void>((resolve, reject) =>
      client.subscribe<{ workflowStream: (typeof events)[number] }>(
        {
          query: 'subscription($id: ID) { workflowStream(instanceId: $id) { eventType transitionId fromPlace toPlace result } }',
          variables: { id: instance.id },
        },
        { next: (value) => events.push(value.data!.workflowStream), error: reject, complete: resolve },
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));

    const transitions = await graphql(
      `{ availableTransitions(instanceId: "${instance.id}") { id trigger enabled available guard { passed explanation } } instance(id: "${instance.id}") { revision status } }`,
    );
    expect(transitions.data?.['availableTransitions']).toEqual([
      { id: 'publish', trigger: 'manual', enabled: true, available: true, guard: { passed: true, explanation: expect.any(String) } },
    ]);
    const { revision, status } = transitions.data?.['instance'] as { revision: number; status: string };
    expect(status).toBe('WAITING');
    const stale = await graphql(
      `mutation { fireTransition(input: { instanceId: "${instance.id}", transitionId: "publish", expectedRevision: ${revision + 5} }) { firingId } }`,
    );
    expect(stale.errors?.[0]?.extensions?.code).toBe('revision_conflict');
    const fired = await graphql(
      `mutation { fireTransition(input: { instanceId: "${instance.id}", transitionId: "publish", expectedRevision: ${revision} }) { firingId instance { status currentPlace marking } } }`,
    );
    expect(fired.errors).toBeUndefined();
    expect(fired.data?.['fireTransition']).toMatchObject({
      firingId: expect.any(String),
      instance: { status: 'COMPLETED', currentPlace: 'done', marking: { done: 1 } },
    });

    await ended;
    await client.dispose();
    expect(events).toContainEqual(
      expect.objectContaining({ eventType: 'WORKFLOW_TRANSITION', transitionId: 'publish', fromPlace: 'queued', toPlace: 'done' }),
    );
    expect(events.at(-1)).toMatchObject({ eventType: 'COMPLETION', result: expect.objectContaining({ topic: 'quantum computing' }) });

    const first = await graphql(
      `{ instanceHistory(id: "${instance.id}", first: 2) { nodes { sequence type } pageInfo { hasNextPage endCursor } } }`,
    );
    const page = first.data?.['instanceHistory'] as {
      nodes: { sequence: number }[];
      pageInfo: { hasNextPage: boolean; endCursor: string };
    };
    expect(page.nodes.map((node) => node.sequence)).toEqual([1, 2]);
    expect(page.pageInfo.hasNextPage).toBe(true);
    const next = await graphql(
      `{ instanceHistory(id: "${instance.id}", first: 100, after: "${page.pageInfo.endCursor}") { nodes { sequence type } } }`,
    );
    const rest = (next.data?.['instanceHistory'] as { nodes: { sequence: number; type: string }[] }).nodes;
    expect(rest[0]?.sequence).toBe(3);
    expect(rest.map((node) => node.type)).toContain('COMPLETION');

    const listed = await graphql(
      '{ instances(filter: { workflowId: "research_and_summarize", status: COMPLETED }) { totalCount nodes { id } } }',
    );
    expect(listed.data?.['instances']).toMatchObject({ totalCount: 1, nodes: [{ id: instance.id }] });
  });

  it('cancels an instance, and names what is wrong with bad input', async () => {
    const started = await graphql(
      'mutation { createWorkflowInstance(input: { workflowId: "content_pipeline", initialData: { topic: "x" } }) { id } }',
    );
    const id = started.data?.['createWorkflowInstance'].id as string;
    const cancelled = await graphql(`mutation { cancelInstance(id: "${id}", reason: "not needed") { status } }`);
    expect(cancelled.data?.['cancelInstance']).toEqual({ status: 'CANCELLED' });
    const again = await graphql(`mutation { cancelInstance(id: "${id}") { status } }`);
    expect(again.errors?.[0]?.extensions?.code).toBe('transition_not_enabled');
    const unknown = await graphql('mutation { createWorkflowInstance(input: { workflowId: "nope" }) { id } }');
    expect(unknown.errors?.[0]?.extensions?.code).toBe('not_found');
    const notObject = await graphql(
      'mutation { createWorkflowInstance(input: { workflowId: "content_pipeline", initialData: [1, 2] }) { id } }',
    );
    expect(notObject.errors?.[0]).toMatchObject({
      extensions: { code: 'invalid_request' },
      message: expect.stringContaining('initialData'),
    });
    expect((await graphql('{ instance(id: "wi_missing") { id } }')).data).toEqual({ instance: null });
  });
});

describe('workflow events on /stream', () => {
  it('forwards the events of a subscribed instance', async () => {
    const started = await graphql(
      'mutation { createWorkflowInstance(input: { workflowId: "research_and_summarize", initialData: { topic: "ws" } }) { id } }',
    );
    const id = started.data?.['createWorkflowInstance'].id as string;
    const socket = new WebSocket(`${gateway.url.replace('http', 'ws')}/stream`);
    const messages: { type: string; eventType?: string }[] = [];
    socket.on('message', (data) => messages.push(JSON.parse(String(data)) as { type: string }));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'subscribe', instanceId: id }));
    await eventually(async () => messages.some((message) => message.type === 'subscribed'));
    await graphql(`mutation { fireTransition(input: { instanceId: "${id}", transitionId: "publish" }) { firingId } }`);
    await eventually(async () => messages.some((message) => message.type === 'workflow_event' && message.eventType === 'COMPLETION'));
    expect(messages).toContainEqual(expect.objectContaining({ type: 'workflow_event', id, eventType: 'WORKFLOW_TRANSITION' }));
    socket.close();
  });
});
