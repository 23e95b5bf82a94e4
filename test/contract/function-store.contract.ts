import { describe, expect, it } from 'vitest';
import type { FunctionExecutionRecord } from '../../src/storage/function-repository.js';
import type { Store } from '../../src/storage/store.js';

/** The function repository's contract, run on every store backend (`function-store.contract.test.ts`). */
export function functionStoreContract(name: string, open: () => Promise<Store>): void {
  const withStore = async (body: (store: Store) => Promise<void>): Promise<void> => {
    const store = await open();
    try {
      await body(store);
    } finally {
      await store.close();
    }
  };

  describe(`${name} function store contract`, () => {
    it('saves, replaces, lists and deletes definitions', () =>
      withStore(async ({ functions }) => {
        expect(await functions.getDefinition('resize')).toBeUndefined();
        const stored = { name: 'resize', version: 1, definition: { runtime: 'process', command: ['true'] }, createdAt: 10, updatedAt: 10 };
        await functions.saveDefinition(stored);
        await functions.saveDefinition({ ...stored, name: 'annotate', definition: { runtime: 'javascript' } });
        await functions.saveDefinition({ ...stored, version: 2, definition: { runtime: 'process', command: ['false'] }, updatedAt: 20 });
        expect(await functions.getDefinition('resize')).toEqual({
          ...stored,
          version: 2,
          definition: { runtime: 'process', command: ['false'] },
          updatedAt: 20,
        });
        expect((await functions.listDefinitions()).map((entry) => entry.name)).toEqual(['annotate', 'resize']);
        expect(await functions.deleteDefinition('annotate')).toBe(true);
        expect(await functions.deleteDefinition('annotate')).toBe(false);
        expect(await functions.listDefinitions()).toHaveLength(1);
      }));

    it('records an execution through its life and reads it back unchanged', () =>
      withStore(async ({ functions }) => {
        const record = execution({ id: 'fx_1', input: { order: { id: 7, tags: ['a'] } }, triggerEvent: { type: 'TOKEN_CREATED' } });
        expect(await functions.insertExecution(record)).toBe(true);
        expect(await functions.getExecution('fx_1')).toEqual(record);
        const finished: FunctionExecutionRecord = {
          ...record,
          status: 'completed',
          attempt: 2,
          output: { ok: true, values: [1, 2.5, null] },
          stdout: 'line\n{"ok":true}\n',
          stderr: 'warn ünïcode\n',
          exitCode: 0,
          startedAt: 1100,
          finishedAt: 1350,
          durationMs: 249.5,
        };
        await functions.updateExecution(finished);
        expect(await functions.getExecution('fx_1')).toEqual(finished);
        const failed = {
          ...finished,
          status: 'failed' as const,
          output: null,
          error: { code: 'timed_out', message: 'too slow' },
          exitCode: null,
        };
        await functions.updateExecution(failed);
        expect(await functions.getExecution('fx_1')).toEqual(failed);
        expect(await functions.getExecution('nope')).toBeUndefined();
      }));

    it('keeps one execution per idempotency key', () =>
      withStore(async ({ functions }) => {
        expect(await functions.insertExecution(execution({ id: 'fx_a', idempotencyKey: 'firing:f1' }))).toBe(true);
        expect(await functions.insertExecution(execution({ id: 'fx_b', idempotencyKey: 'firing:f1' }))).toBe(false);
        expect(await functions.insertExecution(execution({ id: 'fx_c', idempotencyKey: null }))).toBe(true);
        expect(await functions.insertExecution(execution({ id: 'fx_d', idempotencyKey: null }))).toBe(true);
        expect((await functions.findByKey('firing:f1'))?.id).toBe('fx_a');
        expect(await functions.findByKey('firing:none')).toBeUndefined();
        expect(await functions.getExecution('fx_b')).toBeUndefined();
      }));

    it('lists executions newest first by function, status and chain, and the due ones oldest first', () =>
      withStore(async ({ functions }) => {
        await functions.insertExecution(execution({ id: 'fx_1', createdAt: 1, scheduledAt: 1, status: 'completed', chainRootId: 'fx_1' }));
        await functions.insertExecution(
          execution({ id: 'fx_2', createdAt: 2, scheduledAt: 500, status: 'pending', chainRootId: 'fx_1', parentId: 'fx_1' }),
        );
        await functions.insertExecution(execution({ id: 'fx_3', createdAt: 3, scheduledAt: 100, status: 'retrying' }));
        await functions.insertExecution(execution({ id: 'fx_4', createdAt: 4, scheduledAt: 50, status: 'running', functionName: 'other' }));
        expect((await functions.listExecutions({ functionName: 'resize' })).map((entry) => entry.id)).toEqual(['fx_3', 'fx_2', 'fx_1']);
        expect((await functions.listExecutions({ functionName: 'resize', limit: 2 })).map((entry) => entry.id)).toEqual(['fx_3', 'fx_2']);
        expect((await functions.listExecutions({ status: 'running' })).map((entry) => entry.id)).toEqual(['fx_4']);
        expect((await functions.listExecutions({ chainRootId: 'fx_1' })).map((entry) => entry.id)).toEqual(['fx_2', 'fx_1']);
        expect((await functions.listDue(1000, 10)).map((entry) => entry.id)).toEqual(['fx_3', 'fx_2']);
        expect((await functions.listDue(200, 10)).map((entry) => entry.id)).toEqual(['fx_3']);
        expect(await functions.listDue(10, 10)).toEqual([]);
      }));
  });
}

function execution(fields: Partial<FunctionExecutionRecord>): FunctionExecutionRecord {
  return {
    id: 'fx_0',
    functionName: 'resize',
    functionVersion: 1,
    status: 'pending',
    attempt: 0,
    maxAttempts: 3,
    input: {},
    output: null,
    error: null,
    stdout: '',
    stderr: '',
    exitCode: null,
    trigger: { kind: 'event', detail: 'TOKEN_CREATED' },
    triggerEvent: null,
    workflowId: 'wf',
    instanceId: 'inst',
    parentId: null,
    chainRootId: null,
    idempotencyKey: null,
    createdAt: 1000,
    scheduledAt: 1000,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    ...fields,
  };
}
