import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgentGateway } from '../../test/support/agent-gateway.js';
import type { AgentGateway } from '../../test/support/agent-gateway.js';

/**
 * Agents' tools are the registered functions (wired in the container): the emulated provider asks for
 * a tool call, the function runs in its QuickJS sandbox with the call's arguments, and its output is
 * what the model reads back in the next request.
 */
let gateway: AgentGateway;
beforeAll(async () => {
  gateway = await startAgentGateway();
  await gateway.container.functions.create({
    name: 'lookup_year',
    runtime: 'javascript',
    code: 'if (input.q !== "petri") throw new Error(`no year for ${input.q}`); return { year: 1962 };',
  });
}, 30_000);
afterAll(() => gateway?.close());

const historian = {
  id: 'historian',
  model: 'openai/gpt-4o',
  userTemplate: 'When were {topic} invented?',
  tools: [{ name: 'lookup_year', parameters: { type: 'object', properties: { q: { type: 'string' } } } }],
};

function toolMessages(request: { body: unknown } | undefined) {
  return ((request?.body as { messages: { role: string; content: unknown }[] }).messages ?? []).filter(
    (message) => message.role === 'tool',
  );
}

describe('agent tools over the functions', () => {
  it('runs the function named by the tool call and hands its output back to the model', async () => {
    const before = gateway.openai.requests.length;
    gateway.openai.enqueue({ toolCalls: [{ id: 'call_1', name: 'lookup_year', arguments: { q: 'petri' } }] });
    gateway.openai.enqueue({ text: 'Petri nets date from 1962.' });
    const result = await gateway.container.agents.tryOut(historian, { data: { topic: 'Petri nets' } });
    expect(result.output?.text).toBe('Petri nets date from 1962.');
    expect(result.execution.status).toBe('completed');
    const requests = gateway.openai.requests.slice(before);
    expect(requests).toHaveLength(2);
    expect(toolMessages(requests[1])).toEqual([expect.objectContaining({ content: '{"year":1962}' })]);
    const runs = await gateway.container.functions.executions('lookup_year');
    expect(runs).toEqual([
      expect.objectContaining({
        status: 'completed',
        input: { q: 'petri' },
        output: { year: 1962 },
        trigger: { kind: 'tool', detail: 'historian/lookup_year' },
      }),
    ]);
  });

  it('hands a failed run back to the model as an error it can recover from', async () => {
    const before = gateway.openai.requests.length;
    gateway.openai.enqueue({ toolCalls: [{ id: 'call_2', name: 'lookup_year', arguments: { q: 'lambda' } }] });
    gateway.openai.enqueue({ text: 'I could not find it.' });
    const result = await gateway.container.agents.tryOut(historian, { data: { topic: 'lambdas' } });
    expect(result.output?.text).toBe('I could not find it.');
    const [tool] = toolMessages(gateway.openai.requests.slice(before)[1]);
    expect(JSON.parse(String(tool?.content))).toEqual({ error: expect.stringContaining('no year for lambda') });
  });
});
