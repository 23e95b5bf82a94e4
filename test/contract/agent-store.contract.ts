import { describe, expect, it } from 'vitest';
import type { AgentExecutionRecord } from '../../src/storage/agent-repository.js';
import type { Store } from '../../src/storage/store.js';

/** The agent repository suite every storage backend passes. `open` gives a fresh, empty store. */
export function agentStoreContract(name: string, open: () => Promise<Store>): void {
  const withStore = async (body: (store: Store) => Promise<void>): Promise<void> => {
    const store = await open();
    try {
      await body(store);
    } finally {
      await store.close();
    }
  };

  describe(`${name} agent store contract`, () => {
    it('versions definitions: new is 1, changed is +1, unchanged keeps its version', () =>
      withStore(async (store) => {
        const first = await store.agents.saveDefinition('writer', { id: 'writer', model: 'gpt-4o', userTemplate: 'Write {topic}' }, 1000);
        expect(first).toEqual({
          id: 'writer',
          version: 1,
          definition: { id: 'writer', model: 'gpt-4o', userTemplate: 'Write {topic}' },
          createdAt: 1000,
          updatedAt: 1000,
        });
        const same = await store.agents.saveDefinition('writer', { id: 'writer', model: 'gpt-4o', userTemplate: 'Write {topic}' }, 2000);
        expect(same.version).toBe(1);
        expect(same.updatedAt).toBe(1000);
        const changed = await store.agents.saveDefinition('writer', { id: 'writer', model: 'auto', userTemplate: 'Write {topic}' }, 3000);
        expect(changed).toMatchObject({ version: 2, createdAt: 1000, updatedAt: 3000 });
        expect(await store.agents.getDefinition('writer')).toEqual(changed);
        await store.agents.saveDefinition('editor', { id: 'editor', model: 'auto', userTemplate: 'Edit {draft}' }, 4000);
        expect((await store.agents.listDefinitions()).map((entry) => [entry.id, entry.version])).toEqual([
          ['editor', 1],
          ['writer', 2],
        ]);
        expect(await store.agents.deleteDefinition('writer')).toBe(true);
        expect(await store.agents.deleteDefinition('writer')).toBe(false);
        expect(await store.agents.getDefinition('writer')).toBeUndefined();
      }));

    it('gives two concurrent changes of one definition two versions', () =>
      withStore(async (store) => {
        await store.agents.saveDefinition('a', { v: 0 }, 1);
        const saves = await Promise.allSettled([
          store.agents.saveDefinition('a', { v: 1 }, 2),
          store.agents.saveDefinition('a', { v: 2 }, 2),
        ]);
        const versions = saves.flatMap((save) => (save.status === 'fulfilled' ? [save.value.version] : []));
        // Each save that succeeded got its own version; one may be refused as concurrent, never both silently at 2.
        expect(new Set(versions).size).toBe(versions.length);
        expect((await store.agents.getDefinition('a'))?.version).toBe(1 + versions.length);
      }));

    it('records executions, replaces them by id and lists them newest first with filters', () =>
      withStore(async (store) => {
        const running = execution({ id: 'agx_1', status: 'running', startedAt: 1000 });
        await store.agents.saveExecution(running);
        expect(await store.agents.getExecution('agx_1')).toEqual(running);
        const done: AgentExecutionRecord = {
          ...running,
          status: 'completed',
          output: {
            text: 'Outline: …',
            json: { sections: ['a', 'b'] },
            toolCalls: [{ id: 'call_1', name: 'search', arguments: '{"q":"x"}' }],
            finishReason: 'stop',
          },
          provider: 'openai',
          model: 'gpt-4o',
          promptTokens: 12,
          completionTokens: 34,
          costUsd: 0.00123,
          durationMs: 250.5,
          attempts: 2,
          finishedAt: 1250,
        };
        await store.agents.saveExecution(done);
        expect(await store.agents.getExecution('agx_1')).toEqual(done);
        await store.agents.saveExecution(
          execution({
            id: 'agx_2',
            agentId: 'editor',
            instanceId: 'inst_2',
            status: 'failed',
            startedAt: 2000,
            error: { code: 'agent_timeout', message: 'slow' },
          }),
        );
        await store.agents.saveExecution(
          execution({ id: 'agx_3', startedAt: 3000, workflowId: null, instanceId: null, transitionId: null }),
        );
        expect((await store.agents.listExecutions({})).map((entry) => entry.id)).toEqual(['agx_3', 'agx_2', 'agx_1']);
        expect((await store.agents.listExecutions({ agentId: 'writer' })).map((entry) => entry.id)).toEqual(['agx_3', 'agx_1']);
        expect((await store.agents.listExecutions({ instanceId: 'inst_2' })).map((entry) => entry.id)).toEqual(['agx_2']);
        expect((await store.agents.listExecutions({ workflowId: 'content' })).map((entry) => entry.id)).toEqual(['agx_2', 'agx_1']);
        expect((await store.agents.listExecutions({ status: 'failed' }))[0]?.error).toEqual({ code: 'agent_timeout', message: 'slow' });
        expect(await store.agents.listExecutions({ limit: 1 })).toHaveLength(1);
        expect(await store.agents.getExecution('nope')).toBeUndefined();
      }));
  });
}

function execution(overrides: Partial<AgentExecutionRecord> = {}): AgentExecutionRecord {
  return {
    id: 'agx_0',
    agentId: 'writer',
    workflowId: 'content',
    instanceId: 'inst_1',
    transitionId: 'write',
    placeId: null,
    firingId: 'fir_1',
    status: 'running',
    input: { system: 'You write.', user: 'Write about Petri nets', model: 'gpt-4o' },
    output: null,
    error: null,
    requestedModel: 'gpt-4o',
    provider: null,
    model: null,
    promptTokens: 0,
    completionTokens: 0,
    costUsd: null,
    durationMs: 0,
    attempts: 1,
    startedAt: 0,
    finishedAt: null,
    ...overrides,
  };
}
