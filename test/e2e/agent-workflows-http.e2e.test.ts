import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePipeline } from '../../src/agents/pipeline-compiler.js';
import { startFleet } from './support/provider-fleet.js';
import type { Fleet } from './support/provider-fleet.js';
import { contentPipeline } from '../support/seed-pipelines.js';

/**
 * Black box: the built server as a child process over the six emulated providers. The seed's content
 * pipeline, compiled to its net in the test (the definition is plain JSON), is published and started
 * through the workflows API; its agents call their providers through the router inside the server;
 * the instance's SSE stream carries the agents' live output and the usage API their attributed records.
 */

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({ CB_WORKFLOW_POLL_MS: '20' });
}, 60_000);
afterAll(() => fleet?.stop());

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

async function readEvents(response: Response): Promise<SseEvent[]> {
  const text = await response.text();
  return text
    .split('\n\n')
    .map((frame) => {
      const event = /^event: (.+)$/m.exec(frame)?.[1];
      const data = /^data: (.+)$/m.exec(frame)?.[1];
      return event && data ? { event, data: JSON.parse(data) as Record<string, unknown> } : undefined;
    })
    .filter((entry): entry is SseEvent => entry !== undefined);
}

describe('agents through the workflows API', () => {
  it('runs the seed content pipeline: live agent output on the SSE stream, every usage record attributed', async () => {
    const compiled = compilePipeline(
      contentPipeline({ sonnet: 'claude-3-5-sonnet-latest', opus: 'claude-3-5-haiku-latest', gpt4: 'gpt-4o' }),
    );
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.issues));
    const base = fleet.gateway.url;
    const published = await fetch(`${base}/api/v1/workflows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(compiled.definition),
    });
    expect(published.status).toBe(201);

    // The researcher answers after a pause, so the event stream is open before any agent writes.
    fleet.emulators['anthropic']?.enqueue({ text: 'Research notes on agents and tooling.', fault: { type: 'delay', ms: 500 } });
    const started = await fetch(`${base}/api/v1/workflows/content_creation_pipeline/instances`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ initialData: compiled.initialData }),
    });
    expect(started.status).toBe(201);
    const instance = (await started.json()) as { id: string };
    const stream = await fetch(`${base}/api/v1/workflows/instances/${instance.id}/events`);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const events = await readEvents(stream);

    const content = events.filter((entry) => entry.event === 'AGENT_CONTENT').map((entry) => entry.data['data'] as Record<string, unknown>);
    expect(new Set(content.map((entry) => entry['agentId']))).toEqual(new Set(['researcher', 'outliner', 'writer', 'editor']));
    const researched = content.filter((entry) => entry['agentId'] === 'researcher').map((entry) => entry['content']);
    expect(researched.join('')).toBe('Research notes on agents and tooling.');
    expect(events.filter((entry) => entry.event === 'AGENT_COMPLETED')).toHaveLength(4);
    expect(events.at(-1)?.event).toBe('COMPLETION');

    const final = (await (await fetch(`${base}/api/v1/workflows/instances/${instance.id}`)).json()) as {
      status: string;
      tokens: { data: Record<string, unknown> }[];
    };
    expect(final.status).toBe('completed');
    expect(final.tokens[0]?.data).toMatchObject({ research: 'Research notes on agents and tooling.' });
    // The emulators echo the prompt: the editor's answer shows the writer's draft, which shows the outline.
    expect(String(final.tokens[0]?.data['edit'])).toContain(
      'Edit and improve this blog_post: Hello from anthropic: Write blog_post following this outline: Hello from openai',
    );

    let records: {
      instanceId: string | null;
      endpoint: string;
      agentId: string | null;
      transitionId: string | null;
      workflowId: string | null;
      provider: string;
    }[] = [];
    for (let waited = 0; waited < 5_000 && records.length < 4; waited += 100) {
      const usage = (await (await fetch(`${base}/api/v1/usage?limit=100`)).json()) as { data: typeof records };
      records = usage.data.filter((record) => record.instanceId === instance.id);
      if (records.length < 4) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(
      records.map((record) => [record.endpoint, record.workflowId, record.transitionId, record.agentId, record.provider]).sort(),
    ).toEqual(
      [
        ['agent', 'content_creation_pipeline', 'editor', 'editor', 'openai'],
        ['agent', 'content_creation_pipeline', 'outliner', 'outliner', 'openai'],
        ['agent', 'content_creation_pipeline', 'researcher', 'researcher', 'anthropic'],
        ['agent', 'content_creation_pipeline', 'writer', 'writer', 'anthropic'],
      ].sort(),
    );
  });

  async function settled(base: string, instanceId: string) {
    for (let waited = 0; waited < 15_000; waited += 50) {
      const instance = (await (await fetch(`${base}/api/v1/workflows/instances/${instanceId}`)).json()) as {
        status: string;
        tokens: { place: string; data: Record<string, unknown> }[];
      };
      if (instance.status !== 'running') return instance;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`instance ${instanceId} still running`);
  }

  const send = (url: string, method: string, body?: unknown) =>
    fetch(url, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });

  it('defines agents over REST, publishes the seed steps form over REST and runs it', async () => {
    const base = fleet.gateway.url;
    const researcher = {
      id: 'rest_researcher',
      role: 'research',
      model: 'anthropic/claude-3-5-sonnet-latest',
      userTemplate: 'Study {topic}',
    };
    const created = await send(`${base}/api/v1/agents`, 'POST', researcher);
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ id: 'rest_researcher', version: 1 });
    expect((await send(`${base}/api/v1/agents`, 'POST', researcher)).status).toBe(409);
    const bad = await send(`${base}/api/v1/agents`, 'POST', { id: 'broken' });
    expect(bad.status).toBe(400);
    expect(
      (await send(`${base}/api/v1/agents`, 'POST', { id: 'rest_writer', role: 'write', model: 'openai/gpt-4o', userTemplate: 'x' })).status,
    ).toBe(201);
    const changed = await send(`${base}/api/v1/agents/rest_writer`, 'PUT', {
      role: 'write',
      model: 'openai/gpt-4o',
      userTemplate: 'Write about {topic} from {research}',
    });
    expect(await changed.json()).toMatchObject({ id: 'rest_writer', version: 2 });
    expect((await send(`${base}/api/v1/agents/nobody`, 'PUT', { ...researcher, id: 'nobody' })).status).toBe(404);
    const listed = (await (await fetch(`${base}/api/v1/agents`)).json()) as { data: { id: string }[] };
    expect(listed.data.map((agent) => agent.id)).toEqual(expect.arrayContaining(['rest_researcher', 'rest_writer']));

    const published = await send(`${base}/api/v1/workflows`, 'POST', {
      workflowId: 'rest_steps_pipeline',
      initialData: { topic: 'petri nets' },
      steps: [{ agent: 'rest_researcher' }, { agent: 'rest_writer' }],
    });
    expect(published.status).toBe(201);
    const body = (await published.json()) as { id: string; version: number; instance: { id: string } | null };
    expect(body).toMatchObject({ id: 'rest_steps_pipeline', version: 1 });
    expect(body.instance).not.toBeNull();
    const final = await settled(base, body.instance!.id);
    expect(final.status).toBe('completed');
    expect(final.tokens[0]?.data).toMatchObject({ topic: 'petri nets', research: 'Hello from anthropic: Study petri nets' });
    expect(String(final.tokens[0]?.data['write'])).toBe(
      'Hello from openai: Write about petri nets from Hello from anthropic: Study petri nets',
    );

    const executions = (await (await fetch(`${base}/api/v1/agents/rest_writer/executions`)).json()) as {
      data: { instance_id: string; status: string; transition_id: string }[];
    };
    expect(executions.data.filter((execution) => execution.instance_id === body.instance!.id)).toEqual([
      expect.objectContaining({ status: 'completed', transition_id: 'rest_writer' }),
    ]);
    // A step naming an agent nobody defined is a 400 that names it; a refused net is a 422 with its analysis.
    const unknown = await send(`${base}/api/v1/workflows`, 'POST', { workflowId: 'rest_unknown', steps: [{ agent: 'nobody' }] });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain('nobody');

    expect((await send(`${base}/api/v1/agents/rest_researcher`, 'DELETE')).status).toBe(204);
    expect((await fetch(`${base}/api/v1/agents/rest_researcher`)).status).toBe(404);
  });

  it('publishes a definition with an agent on a place over REST (POST and PUT expand it)', async () => {
    const base = fleet.gateway.url;
    const triage = {
      id: 'rest_triage',
      name: 'Triage',
      places: [
        {
          id: 'inbox',
          agent: {
            agent: { id: 'rest_classifier', model: 'openai/gpt-4o', userTemplate: 'Classify: {ticket}', outputKey: 'label' },
            then: 'route',
          },
        },
        { id: 'routed' },
      ],
      transitions: [{ id: 'route', inputs: ['inbox'], outputs: ['routed'], trigger: 'manual' }],
      start: 'inbox',
      end: 'routed',
    };
    const published = await send(`${base}/api/v1/workflows`, 'POST', triage);
    expect(published.status).toBe(201);
    const record = (await published.json()) as { definition: { transitions: { id: string }[] } };
    expect(record.definition.transitions.map((transition) => transition.id)).toContain('inbox_agent');
    expect((await send(`${base}/api/v1/workflows/rest_triage`, 'PUT', triage)).status).toBe(200);
    const started = await send(`${base}/api/v1/workflows/rest_triage/instances`, 'POST', { initialData: { ticket: 'disk full' } });
    const instance = (await started.json()) as { id: string; version: number };
    expect(instance.version).toBe(2);
    const final = await settled(base, instance.id);
    expect(final.status).toBe('completed');
    expect(final.tokens[0]).toMatchObject({ place: 'routed', data: { label: 'Hello from openai: Classify: disk full' } });
  });
});
