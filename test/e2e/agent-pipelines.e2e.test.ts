import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../src/agents/agent-events.js';
import type { WorkflowInstance } from '../../src/engine/workflow-instance.js';
import type { AgentExecutionRecord } from '../../src/storage/agent-repository.js';
import { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import type { Store } from '../../src/storage/store.js';
import type { UsageRecord } from '../../src/storage/usage-repository.js';
import { topics } from '../../src/streaming/event-bus.js';
import { lastUserText } from '../emulators/scenario.js';
import { startAgentGateway } from '../support/agent-gateway.js';
import { serviceAvailable, services } from '../support/services.js';
import type { AgentGateway } from '../support/agent-gateway.js';
import { contentPipeline, documentAnalysisPipeline, documentRules, summarizerAgent } from '../support/seed-pipelines.js';

/**
 * The seed's two multi-agent pipelines, end to end: compiled to nets, published (with the analysis),
 * run by the engine's runtime (outbox worker, automatic firing), each agent calling its own emulated
 * provider through the router in-process, with the usage ledger, the agent executions and the
 * instance's event stream checked afterwards.
 */

// Models the emulators serve and the catalog prices (the seed's claude-3-sonnet / claude-3-opus / gpt-4 are not priced).
const models = { sonnet: 'claude-3-5-sonnet-latest', opus: 'claude-3-5-haiku-latest', gpt4: 'gpt-4o' };
const replies: Record<string, (prompt: string) => string> = {
  'claude-3-5-sonnet-latest': (prompt) =>
    prompt.includes('Revise your answer')
      ? 'Revised research notes.'
      : prompt.startsWith('Research')
        ? 'Research notes: agents, evaluation, tooling.'
        : `Themes of (${prompt.split(': ').at(-1)})`,
  'gpt-4o': (prompt) =>
    prompt.startsWith('Create outline')
      ? 'Outline: 1. Agents 2. Evaluation 3. Tooling'
      : prompt.startsWith('Verify')
        ? JSON.stringify({ passed: !prompt.includes('dubious'), issues: [] })
        : `Edited: ${prompt.slice(0, 60)}`,
  'gpt-4o-mini': (prompt) => JSON.stringify({ approved: prompt.includes('Revised'), notes: 'cite sources' }),
  'claude-3-5-haiku-latest': (prompt) => `Draft built on [${prompt.split('outline: ').at(-1)}]`,
};

const postgresUp = await serviceAvailable('postgres');
const schemas: string[] = [];
afterAll(async () => {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: services.postgres.url });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

const backends: [string, () => Promise<Store | undefined>][] = [['sqlite', async () => undefined]];
if (postgresUp)
  backends.push([
    'postgres',
    async () => {
      const schema = `cb_agents_e2e_${process.pid}_${Date.now().toString(36)}`;
      schemas.push(schema);
      return PostgresStore.open(services.postgres.url, { schema });
    },
  ]);

describe.each(backends)('multi-agent pipelines on %s', (_backend, openStore) => {
  let gateway: AgentGateway;
  const events: AgentEvent[] = [];

  beforeAll(async () => {
    const store = await openStore();
    gateway = await startAgentGateway({ env: { CB_WORKFLOW_POLL_MS: '20' }, ...(store ? { store } : {}) });
    for (const emulator of [gateway.openai, gateway.anthropic])
      emulator.setDefault((body, model) => ({
        text: (replies[model] ?? ((text: string) => `Summary: ${text.slice(0, 40)}`))(lastUserText(body)),
      }));
    // Through the engine's progress sink: the live-event shape the instance's SSE stream forwards.
    gateway.container.events.subscribe<{ type: string; live?: boolean; data: AgentEvent }>(topics.allWorkflows, (message) => {
      if (message.payload.type.startsWith('AGENT_') && message.payload.live === true) events.push(message.payload.data);
    });
    // The document pipeline's first step is a function (the functions layer's executor); a stand-in extractor here.
    gateway.container.workflows.catalog.registerActionCheck('function', () => []);
    gateway.container.workflows.actions.register('function', {
      execute: async (request) => ({
        output: { text: `Report on ${String(request.data['doc'])} at ${String(request.variables['document_url'])}` },
      }),
    });
  }, 30_000);
  afterAll(() => gateway?.close());

  async function settled(instanceId: string): Promise<WorkflowInstance> {
    for (let waited = 0; waited < 15_000; waited += 25) {
      const instance = await gateway.container.workflows.getInstance(instanceId);
      if (instance.status !== 'running') return instance;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`instance ${instanceId} still running after 15 s`);
  }

  async function usageOf(instanceId: string): Promise<UsageRecord[]> {
    await gateway.container.ledger.flush();
    const records = await gateway.container.store.usage.list({ from: 0, to: Date.now() + 60_000 }, 500);
    return records.filter((record) => record.instanceId === instanceId).reverse();
  }

  function userPrompt(emulatorRequests: typeof gateway.openai.requests, contains: string): string | undefined {
    return emulatorRequests.map((request) => lastUserText(request.body)).find((text) => text.includes(contains));
  }

  describe('the seed content pipeline (researcher → outliner → writer → editor)', () => {
    it('runs end to end, each agent on its own provider, every step feeding the next', async () => {
      const created = await gateway.container.pipelines.create(contentPipeline(models));
      expect(created.report.soundness).toMatchObject({ applicable: true, sound: true });
      const instance = await settled(created.instance!.id);
      expect(instance.status).toBe('completed');
      const data = instance.tokens.find((token) => token.place === 'end')?.data ?? {};
      expect(data).toMatchObject({
        topic: 'The Future of AI Development',
        research: 'Research notes: agents, evaluation, tooling.',
        outline: 'Outline: 1. Agents 2. Evaluation 3. Tooling',
        draft: 'Draft built on [Outline: 1. Agents 2. Evaluation 3. Tooling]',
      });
      expect(String(data['edit'])).toContain('Edited: Edit and improve this blog_post: Draft built on [Outline');
      // The editor's prompt carried the writer's draft, which carried the outliner's outline.
      expect(userPrompt(gateway.openai.requests, 'Edit and improve this blog_post: Draft built on')).toBeDefined();

      const executions = (await gateway.container.agents.agentExecutions({ instanceId: instance.id })).reverse();
      expect(executions.map((execution) => [execution.agentId, execution.provider, execution.model, execution.status])).toEqual([
        ['researcher', 'anthropic', models.sonnet, 'completed'],
        ['outliner', 'openai', models.gpt4, 'completed'],
        ['writer', 'anthropic', models.opus, 'completed'],
        ['editor', 'openai', models.gpt4, 'completed'],
      ]);
      for (const execution of executions) {
        expect(execution).toMatchObject({ workflowId: 'content_creation_pipeline', transitionId: execution.agentId, attempts: 1 });
        expect(execution.promptTokens).toBeGreaterThan(0);
        expect(execution.completionTokens).toBeGreaterThan(0);
        expect(execution.costUsd).toBeGreaterThan(0);
        expect(execution.durationMs).toBeGreaterThanOrEqual(0);
      }

      const usage = await usageOf(instance.id);
      expect(
        usage.map((record) => [record.endpoint, record.workflowId, record.transitionId, record.agentId, record.provider, record.status]),
      ).toEqual([
        ['agent', 'content_creation_pipeline', 'researcher', 'researcher', 'anthropic', 'ok'],
        ['agent', 'content_creation_pipeline', 'outliner', 'outliner', 'openai', 'ok'],
        ['agent', 'content_creation_pipeline', 'writer', 'writer', 'anthropic', 'ok'],
        ['agent', 'content_creation_pipeline', 'editor', 'editor', 'openai', 'ok'],
      ]);
      usage.forEach((record, index) => expect(record.costUsd).toBeCloseTo(executions[index]?.costUsd ?? -1, 10));

      const mine = events.filter((event) => event.instanceId === instance.id);
      for (const execution of executions) {
        const content = mine.filter((event) => event.type === 'AGENT_CONTENT' && event.agentId === execution.agentId);
        expect(content.length).toBeGreaterThan(0);
        expect(content.map((event) => (event.type === 'AGENT_CONTENT' ? event.content : '')).join('')).toBe(execution.output?.text);
        expect(mine.some((event) => event.type === 'AGENT_COMPLETED' && event.executionId === execution.id)).toBe(true);
      }
    });
  });

  describe('the seed document analysis pipeline (extract → analyse → fact-check → summarise)', () => {
    let defined = false;
    async function run(doc: string): Promise<{ instance: WorkflowInstance; executions: AgentExecutionRecord[] }> {
      if (!defined) await gateway.container.agents.define(summarizerAgent);
      defined = true;
      const input = { ...documentAnalysisPipeline(models), id: `document_analysis_${doc}`, initialData: { doc } };
      const created = await gateway.container.pipelines.create(input, { rules: documentRules });
      expect(created.report.ok).toBe(true);
      const instance = await settled(created.instance!.id);
      const executions = (await gateway.container.agents.agentExecutions({ instanceId: instance.id })).reverse();
      return { instance, executions };
    }

    it('passes the rule gate when the fact check passes, and summarises with best_available', async () => {
      const { instance, executions } = await run('sound');
      expect(instance.status).toBe('completed');
      expect(executions.map((execution) => execution.transitionId)).toEqual(['analyze_content', 'fact_check', 'generate_summary']);
      const data = instance.tokens.find((token) => token.place === 'end')?.data ?? {};
      expect(data).toMatchObject({
        text: 'Report on sound at https://example.com/doc.pdf',
        analyze_content: 'Themes of (Report on sound at https://example.com/doc.pdf)',
        fact_check: { passed: true, issues: [] },
      });
      expect(typeof data['summary']).toBe('string');
      const [analyse, check, summary] = executions;
      expect(analyse).toMatchObject({ provider: 'anthropic', model: models.sonnet });
      expect(check).toMatchObject({ provider: 'openai', model: models.gpt4, output: { json: { passed: true, issues: [] } } });
      expect(summary).toMatchObject({ agentId: 'summarizer', requestedModel: 'best_available', status: 'completed' });
      expect(['openai', 'anthropic']).toContain(summary?.provider);
      const factCheckRequest = gateway.openai.requests.find((request) => JSON.stringify(request.body).includes('Verify factual claims'));
      expect((factCheckRequest?.body as { response_format?: unknown }).response_format).toMatchObject({ type: 'json_schema' });
      const usage = await usageOf(instance.id);
      expect(usage.map((record) => [record.transitionId, record.agentId])).toEqual([
        ['analyze_content', 'content_analyzer'],
        ['fact_check', 'fact_checker'],
        ['generate_summary', 'summarizer'],
      ]);
    });

    it('blocks the summary when the fact check fails: the summariser never runs', async () => {
      const { instance, executions } = await run('dubious');
      expect(instance.status).toBe('deadlocked');
      expect(instance.tokens.map((token) => [token.place, token.data['fact_check']])).toEqual([
        ['fact_check_done', { passed: false, issues: [] }],
      ]);
      expect(executions.map((execution) => execution.transitionId)).toEqual(['analyze_content', 'fact_check']);
      expect((await usageOf(instance.id)).some((record) => record.agentId === 'summarizer')).toBe(false);
    });
  });

  describe('an agent on a place (trigger rule, auto-transition)', () => {
    const triage = (id: string) => ({
      id,
      name: 'Triage',
      places: [
        {
          id: 'inbox',
          agent: {
            agent: { id: 'classifier', model: `openai/${models.gpt4}`, userTemplate: 'Classify: {ticket}', outputKey: 'label' },
            when: 'data.priority > 3',
            then: 'route',
          },
        },
        { id: 'routed' },
      ],
      transitions: [{ id: 'route', inputs: ['inbox'], outputs: ['routed'], trigger: 'manual' }],
      start: 'inbox',
      end: 'routed',
    });

    it('runs the agent when the rule passes, writes its output into the token, then fires the named transition', async () => {
      const published = await gateway.container.pipelines.publish(triage('triage_place_agent'));
      const started = await gateway.container.workflows.startInstance(published.record.workflowId, {
        initialData: { ticket: 'server down', priority: 5 },
      });
      const urgent = await settled(started.id);
      expect(urgent.status).toBe('completed');
      expect(urgent.tokens[0]).toMatchObject({ place: 'routed', data: { ticket: 'server down', label: 'Edited: Classify: server down' } });
      const [execution] = await gateway.container.agents.agentExecutions({ instanceId: urgent.id });
      expect(execution).toMatchObject({ agentId: 'classifier', transitionId: 'inbox_agent', status: 'completed' });

      const calm = await settled(
        (await gateway.container.workflows.startInstance(published.record.workflowId, { initialData: { ticket: 'typo', priority: 1 } })).id,
      );
      expect(calm.status).toBe('completed');
      expect(calm.tokens[0]?.data['label']).toBeUndefined();
      expect(await gateway.container.agents.agentExecutions({ instanceId: calm.id })).toEqual([]);
    });
  });

  describe('a reviewer loop with bounded rounds', () => {
    it('revises once after a rejection, then goes on when the reviewer approves', async () => {
      const created = await gateway.container.pipelines.create({
        id: 'review_loop',
        initialData: { topic: 'nets' },
        steps: [
          {
            type: 'write',
            agent: { id: 'author', model: `anthropic/${models.sonnet}`, userTemplate: 'Research: {topic}', outputKey: 'draft' },
            review: {
              agent: {
                id: 'critic',
                model: 'openai/gpt-4o-mini',
                userTemplate: 'Review {draft}',
                outputKey: 'review',
                outputSchema: { type: 'object', required: ['approved'] },
              },
              until: 'data.review.approved == true',
              maxRounds: 3,
            },
          },
        ],
      });
      expect(created.report.soundness).toMatchObject({ sound: true });
      const instance = await settled(created.instance!.id);
      expect(instance.status).toBe('completed');
      expect(instance.tokens[0]?.data).toMatchObject({ draft: 'Revised research notes.', review: { approved: true } });
      const executions = (await gateway.container.agents.agentExecutions({ instanceId: instance.id })).reverse();
      expect(executions.map((execution) => [execution.transitionId, execution.agentId])).toEqual([
        ['write', 'author'],
        ['write_review_1', 'critic'],
        ['write_round_2', 'author'],
        ['write_review_2', 'critic'],
      ]);
      expect(executions[2]?.input.user).toContain("The reviewer's feedback:");
    });
  });
});
