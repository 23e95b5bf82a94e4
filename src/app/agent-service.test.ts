import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionError } from '../engine/action-executor.js';
import type { ActionRequest } from '../engine/action-executor.js';
import { startAgentGateway } from '../../test/support/agent-gateway.js';
import type { AgentGateway } from '../../test/support/agent-gateway.js';
import { refusal } from '../../test/support/unit.js';

let gateway: AgentGateway;
beforeAll(async () => {
  gateway = await startAgentGateway();
});
afterAll(() => gateway.close());

function actionRequest(overrides: Partial<ActionRequest>): ActionRequest {
  return {
    firingId: `fir_${Math.random().toString(36).slice(2)}`,
    workflowId: 'content',
    version: 1,
    instanceId: 'inst_service',
    transitionId: 'outline',
    action: { agent: 'outliner' },
    tokens: [
      {
        id: 'tok_1',
        instanceId: 'inst_service',
        place: 'researched',
        data: {},
        metadata: { source: 'api' },
        createdBy: undefined,
        parents: [],
        createdAt: 0,
      },
    ],
    data: { topic: 'Petri nets', content_type: 'blog_post' },
    variables: {},
    attempt: 1,
    signal: new AbortController().signal,
    ...overrides,
  };
}

describe('AgentService', () => {
  it('stores checked, versioned definitions and refuses invalid ones with every issue', async () => {
    const agents = gateway.container.agents;
    const first = await agents.define({
      id: 'outliner',
      role: 'outline',
      model: 'openai/gpt-4o',
      userTemplate: 'Outline {content_type} about {topic}',
    });
    expect(first.record.version).toBe(1);
    const second = await agents.define({
      id: 'outliner',
      role: 'outline',
      model: 'openai/gpt-4o-mini',
      userTemplate: 'Outline {content_type} about {topic}',
    });
    expect(second.record.version).toBe(2);
    expect((await agents.get('outliner'))?.agent.model).toBe('openai/gpt-4o-mini');
    expect((await agents.list()).map((entry) => entry.agent.id)).toContain('outliner');
    const error = await refusal(agents.define({ id: 'bad', temperature: 9 }));
    expect(error.status).toBe(400);
    expect(error.message).toContain('temperature');
    expect(error.message).toContain('user template');
    expect((await refusal(agents.delete('nope'))).status).toBe(404);
    expect(agents.checkAction({ agent: 'outliner' })).toEqual([]);
    expect(agents.checkAction({ agent: 'ghost' })).toEqual(["agent 'ghost' is not defined"]);
  });

  it('runs a named agent as a transition action and maps its output under the output key', async () => {
    await gateway.container.agents.define({
      id: 'outliner',
      role: 'outline',
      model: 'openai/gpt-4o',
      userTemplate: 'Outline {content_type} about {topic} ({source})',
    });
    gateway.openai.enqueue({ text: '1. Places 2. Transitions' });
    const request = actionRequest({});
    const result = await gateway.container.agents.executor.execute(request);
    expect(result).toEqual({ output: { outline: '1. Places 2. Transitions' } });
    const user = (gateway.openai.requests.at(-1)?.body as { messages: { content: string }[] }).messages.at(-1)?.content;
    expect(user).toBe('Outline blog_post about Petri nets (api)');
    const [execution] = await gateway.container.agents.agentExecutions({ instanceId: 'inst_service', agentId: 'outliner' });
    expect(execution).toMatchObject({ status: 'completed', firingId: request.firingId, transitionId: 'outline' });

    // The outbox delivers at least once: the same firing again returns the same output without a model call.
    const before = gateway.openai.requests.length;
    expect(await gateway.container.agents.executor.execute(request)).toEqual(result);
    expect(gateway.openai.requests.length).toBe(before);
  });

  it('runs an inline agent with structured output and tool calls', async () => {
    // Tools are the registered functions: 'lookup' is none, so the model reads an error and answers anyway.
    const before = gateway.openai.requests.length;
    gateway.openai.enqueue({ toolCalls: [{ name: 'lookup', arguments: { q: 'sky' } }] });
    gateway.openai.enqueue({ text: '{"passed": true}' });
    const result = await gateway.container.agents.executor.execute(
      actionRequest({
        transitionId: 'fact_check',
        action: {
          agent: {
            model: 'openai/gpt-4o',
            outputKey: 'fact_check',
            userTemplate: 'Check {topic}',
            outputSchema: { type: 'object', required: ['passed'] },
            tools: [{ name: 'lookup', parameters: { type: 'object' } }],
          },
        },
      }),
    );
    expect(result.output).toMatchObject({ fact_check: { passed: true } });
    const second = gateway.openai.requests.slice(before)[1]?.body as { messages: { role: string; content: unknown }[] };
    expect(second.messages.filter((message) => message.role === 'tool').map((message) => String(message.content))).toEqual([
      expect.stringContaining("'lookup'"),
    ]);
  });

  it('fails the action without retry when it cannot pass on another try', async () => {
    const unknown = await gateway.container.agents.executor
      .execute(actionRequest({ action: { agent: 'ghost' } }))
      .catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(ActionError);
    expect(unknown).toMatchObject({ code: 'agent_not_found', retryable: false });
    const missing = await gateway.container.agents.executor
      .execute(actionRequest({ action: { agent: { model: 'openai/gpt-4o', userTemplate: 'Edit {draft}' } } }))
      .catch((error: unknown) => error);
    expect(missing).toMatchObject({ code: 'template_variable_missing', retryable: false });
    gateway.openai.enqueue({ fault: { type: 'delay', ms: 2_000 } });
    const slow = await gateway.container.agents.executor
      .execute(actionRequest({ action: { agent: { model: 'openai/gpt-4o', userTemplate: 'x', timeoutMs: 100, retry: { attempts: 1 } } } }))
      .catch((error: unknown) => error);
    expect(slow).toMatchObject({ code: 'agent_timeout', retryable: true });
  });
});
