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
});
