import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompletionModelPort } from '../app/completion-model-port.js';
import { systemClock } from '../core/clock.js';
import { ErrorCode, GatewayError } from '../core/errors.js';
import { silentLogger } from '../core/logger.js';
import type { BusMessage } from '../streaming/event-bus.js';
import { topics } from '../streaming/event-bus.js';
import { startAgentGateway } from '../../test/support/agent-gateway.js';
import type { AgentGateway } from '../../test/support/agent-gateway.js';
import { parseAgentDefinition } from './agent-definition.js';
import type { AgentDefinition, AgentDefinitionInput } from './agent-definition.js';
import type { AgentEvent } from './agent-events.js';
import type { AgentModelPort } from './agent-model-port.js';
import { AgentRunner } from './agent-runner.js';

let gateway: AgentGateway;
beforeAll(async () => {
  gateway = await startAgentGateway();
});
afterAll(() => gateway.close());

function agent(input: Partial<AgentDefinitionInput> & { id: string }): AgentDefinition {
  const parsed = parseAgentDefinition({ model: 'openai/gpt-4o', userTemplate: 'Research: {topic}', ...input });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.agent;
}

function runner(models: AgentModelPort = new CompletionModelPort(gateway.container.completions)) {
  const waits: number[] = [];
  const instance = new AgentRunner({
    models,
    executions: gateway.container.store.agents,
    events: gateway.container.events,
    clock: systemClock,
    logger: silentLogger,
    sleep: async (ms) => void waits.push(ms),
  });
  return { runner: instance, waits };
}

/** Collects the agent events of one instance until `until` arrives. */
function collect(workflowId: string, instanceId: string) {
  const events: AgentEvent[] = [];
  const subscription = gateway.container.events.subscribe(
    topics.workflowInstance(workflowId, instanceId),
    (message: BusMessage<AgentEvent>) => events.push(message.payload),
  );
  return { events, stop: () => subscription.unsubscribe() };
}

describe('AgentRunner over the completion service', () => {
  it('streams content as AGENT_CONTENT events, records the execution and attributes the usage record', async () => {
    gateway.openai.enqueue({ text: 'Petri nets model concurrency.', usage: { promptTokens: 21, completionTokens: 7 } });
    const site = { workflowId: 'content', instanceId: 'inst_stream', transitionId: 'research', firingId: 'fir_stream' };
    const seen = collect(site.workflowId, site.instanceId);
    const result = await runner().runner.run({
      agent: agent({ id: 'researcher', systemPrompt: 'You research {variables.audience} topics.', temperature: 0.2, maxTokens: 300 }),
      scope: { data: { topic: 'Petri nets' }, variables: { audience: 'engineering' } },
      site,
    });
    await new Promise((resolve) => setImmediate(resolve));
    seen.stop();
    expect(result.output?.text).toBe('Petri nets model concurrency.');
    expect(result.execution).toMatchObject({
      status: 'completed',
      agentId: 'researcher',
      workflowId: 'content',
      instanceId: 'inst_stream',
      transitionId: 'research',
      firingId: 'fir_stream',
      input: { system: 'You research engineering topics.', user: 'Research: Petri nets', model: 'openai/gpt-4o' },
      provider: 'openai',
      model: 'gpt-4o',
      promptTokens: 21,
      completionTokens: 7,
      attempts: 1,
    });
    expect(result.execution.costUsd).toBeGreaterThan(0);
    expect(await gateway.container.store.agents.getExecution(result.execution.id)).toEqual(result.execution);

    const body = gateway.openai.requests.at(-1)?.body as Record<string, unknown>;
    expect(body).toMatchObject({ model: 'gpt-4o', stream: true, temperature: 0.2, max_tokens: 300 });
    expect(body['messages']).toEqual([
      { role: 'system', content: 'You research engineering topics.' },
      { role: 'user', content: 'Research: Petri nets' },
    ]);

    const content = seen.events.filter((event) => event.type === 'AGENT_CONTENT').map((event) => event.content);
    expect(content.length).toBeGreaterThan(1);
    expect(content.join('')).toBe('Petri nets model concurrency.');
    expect(seen.events[0]).toMatchObject({ type: 'AGENT_THINKING', status: 'started', agentId: 'researcher', transitionId: 'research' });
    expect(seen.events.at(-1)).toMatchObject({ type: 'AGENT_COMPLETED', provider: 'openai', promptTokens: 21, completionTokens: 7 });

    await gateway.container.ledger.flush();
    const records = await gateway.container.store.usage.list({ from: 0, to: Date.now() + 1000 }, 50);
    const record = records.find((entry) => entry.instanceId === 'inst_stream');
    expect(record).toMatchObject({
      endpoint: 'agent',
      workflowId: 'content',
      instanceId: 'inst_stream',
      transitionId: 'research',
      agentId: 'researcher',
      provider: 'openai',
      promptTokens: 21,
      completionTokens: 7,
      status: 'ok',
    });
    expect(record?.costUsd).toBeCloseTo(result.execution.costUsd ?? -1, 10);
  });

  it('asks for json_schema, sends the problems back on an invalid answer and keeps the valid one', async () => {
    gateway.anthropic.enqueue({ text: '{"score": "high"}' }, { text: '{"score": 0.9, "claims": ["a"]}' });
    const schema = { type: 'object', properties: { score: { type: 'number' }, claims: { type: 'array' } }, required: ['score'] };
    const result = await runner().runner.run({
      agent: agent({
        id: 'fact_checker',
        model: 'anthropic/claude-3-5-sonnet-latest',
        outputSchema: schema,
        userTemplate: 'Check {analysis}',
      }),
      scope: { data: { analysis: 'The sky is blue.' } },
      site: { workflowId: 'docs', instanceId: 'inst_schema', transitionId: 'fact_check', firingId: 'fir_schema' },
    });
    expect(result.execution.status).toBe('completed');
    expect(result.execution.attempts).toBe(2);
    expect(result.output?.json).toEqual({ score: 0.9, claims: ['a'] });
    const retried = gateway.anthropic.requests.at(-1)?.body as { messages: { role: string; content: unknown }[] };
    expect(JSON.stringify(retried.messages.at(-1))).toContain('at /score: must be number');
    expect(retried.messages.at(-2)).toMatchObject({ role: 'assistant' });
  });

  it('fails with the schema problems when every attempt answers badly', async () => {
    gateway.openai.enqueue({ text: 'not json' }, { text: '[]' });
    const result = await runner().runner.run({
      agent: agent({ id: 'strict', outputSchema: { type: 'object' }, retry: { attempts: 2 } }),
      scope: { data: { topic: 'x' } },
    });
    expect(result.execution).toMatchObject({ status: 'failed', attempts: 2, error: { code: 'agent_output_invalid' } });
    expect(result.execution.error?.message).toContain('at /: must be object');
    expect(result.execution.promptTokens).toBeGreaterThan(0);
  });

  it('fails a missing template variable by name without calling a model', async () => {
    const before = gateway.openai.requests.length;
    const result = await runner().runner.run({
      agent: agent({ id: 'writer', userTemplate: 'Write {content_type} following this outline: {outline}' }),
      scope: { data: { content_type: 'blog_post', outlne: '1. intro' } },
      site: { workflowId: 'content', instanceId: 'inst_missing', firingId: 'fir_missing' },
    });
    expect(result.execution).toMatchObject({ status: 'failed', attempts: 0, error: { code: 'template_variable_missing' } });
    expect(result.execution.error?.message).toContain('{outline}');
    expect(result.execution.error?.message).toContain('did you mean {outlne}');
    expect(gateway.openai.requests.length).toBe(before);
  });

  it('times an attempt out and records timed_out', async () => {
    gateway.openai.enqueue({ fault: { type: 'delay', ms: 3_000 } });
    const result = await runner().runner.run({
      agent: agent({ id: 'slow', timeoutMs: 150, retry: { attempts: 1 } }),
      scope: { data: { topic: 'x' } },
    });
    expect(result.execution).toMatchObject({ status: 'timed_out', attempts: 1, error: { code: 'agent_timeout' } });
  });

  it('does not retry what cannot succeed (an upstream 400)', async () => {
    gateway.openai.enqueue({ fault: { type: 'status', status: 400, message: 'bad parameter' } });
    const result = await runner().runner.run({ agent: agent({ id: 'rejected' }), scope: { data: { topic: 'x' } } });
    expect(result.execution).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('returns the completed execution of the same firing instead of calling the model again', async () => {
    gateway.openai.enqueue({ text: 'first run' });
    const site = { workflowId: 'content', instanceId: 'inst_again', transitionId: 'research', firingId: 'fir_again' };
    const first = await runner().runner.run({ agent: agent({ id: 'researcher' }), scope: { data: { topic: 'x' } }, site });
    const before = gateway.openai.requests.length;
    const second = await runner().runner.run({ agent: agent({ id: 'researcher' }), scope: { data: { topic: 'x' } }, site });
    expect(second).toMatchObject({ reused: true, output: { text: 'first run' } });
    expect(second.execution.id).toBe(first.execution.id);
    expect(gateway.openai.requests.length).toBe(before);
  });
});

describe('AgentRunner retry policy', () => {
  it('retries retryable errors with exponential backoff capped by the policy', async () => {
    let calls = 0;
    const flaky: AgentModelPort = {
      async stream() {
        calls++;
        if (calls < 3) throw new GatewayError(ErrorCode.upstreamUnavailable, 'down', { status: 503, isRetryable: true });
        return {
          parts: (async function* () {
            yield { type: 'text-delta', choice: 0, text: 'ok' } as const;
            yield { type: 'usage', usage: { promptTokens: 1, completionTokens: 1 } } as const;
          })(),
          served: () => ({ provider: 'fake', model: 'fake-1', costUsd: 0.5 }),
        };
      },
    };
    const { runner: instance, waits } = runner(flaky);
    const result = await instance.run({
      agent: agent({ id: 'flaky', retry: { attempts: 4, backoffMs: 100, multiplier: 3, maxBackoffMs: 250 } }),
      scope: { data: { topic: 'x' } },
    });
    expect(result.execution).toMatchObject({ status: 'completed', attempts: 3, provider: 'fake', costUsd: 0.5 });
    expect(waits).toEqual([100, 250]);
  });

  it('stops at once when the run is cancelled', async () => {
    const controller = new AbortController();
    const hanging: AgentModelPort = {
      async stream(call) {
        controller.abort();
        throw call.signal.reason ?? new Error('aborted');
      },
    };
    const result = await runner(hanging).runner.run({
      agent: agent({ id: 'cancelled' }),
      scope: { data: { topic: 'x' } },
      signal: controller.signal,
    });
    expect(result.execution).toMatchObject({ status: 'cancelled', attempts: 1, error: { code: 'agent_cancelled' } });
  });
});
