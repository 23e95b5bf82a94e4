import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.js';
import { ActionError } from '../engine/action-executor.js';
import type { ActionRequest } from '../engine/action-executor.js';
import type { FunctionRunner, RunOutcome, RunRequest } from '../functions/function-runner.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { MemoryEventBus } from '../streaming/memory-event-bus.js';
import { fakeClock } from '../../test/support/unit.js';
import { FunctionActionExecutor } from './function-action-executor.js';
import { FunctionService } from './function-service.js';

/** A runner whose outcomes the test scripts. */
class ScriptedRunner implements FunctionRunner {
  readonly runtime = 'process' as const;
  readonly requests: RunRequest[] = [];
  constructor(private readonly outcomes: Partial<RunOutcome>[]) {}
  readiness() {
    return Promise.resolve({ ready: true as const, detail: 'scripted' });
  }
  run(request: RunRequest): Promise<RunOutcome> {
    this.requests.push(request);
    const next = this.outcomes.shift() ?? { status: 'completed', output: { ok: true } };
    return Promise.resolve({ stdout: '', stderr: '', durationMs: 5, ...next } as RunOutcome);
  }
}

let store: SqliteStore;
let events: MemoryEventBus;
beforeEach(async () => {
  store = await SqliteStore.open(':memory:');
  events = new MemoryEventBus();
});
afterEach(async () => {
  await events.close();
  await store.close();
});

function setup(runner: FunctionRunner) {
  const functions = new FunctionService({
    repository: store.functions,
    runners: [runner],
    events,
    clock: fakeClock(1000),
    logger: silentLogger,
    secrets: { resolve: () => Promise.resolve(undefined) },
    sleep: () => Promise.resolve(),
  });
  return { functions, actions: new FunctionActionExecutor(functions) };
}

function request(firingId: string, action: ActionRequest['action'], attempt = 1): ActionRequest {
  return {
    firingId,
    workflowId: 'w',
    version: 1,
    instanceId: 'i',
    transitionId: 't',
    action,
    tokens: [],
    data: { doc: 1 },
    variables: { region: 'eu' },
    attempt,
    signal: new AbortController().signal,
  };
}

describe('FunctionActionExecutor', () => {
  it('runs a function action once per firing and answers the recorded output when the firing comes again', async () => {
    const runner = new ScriptedRunner([{ status: 'completed', output: { approved: true } }]);
    const { functions, actions } = setup(runner);
    await functions.create({ name: 'approve', runtime: 'process', command: ['x'] });
    const first = await actions.execute(request('f1', { function: 'approve' }));
    const again = await actions.execute(request('f1', { function: 'approve' }, 2));
    expect(first).toEqual({ output: { approved: true } });
    expect(again).toEqual(first);
    expect(runner.requests).toHaveLength(1);
    expect(runner.requests[0]?.input).toEqual({ doc: 1 });
    expect(await store.functions.findByKey('firing:f1')).toMatchObject({
      trigger: { kind: 'action', detail: 't' },
      workflowId: 'w',
      instanceId: 'i',
    });
  });

  it('throws a retryable ActionError for a failed run and runs it again when the firing is retried', async () => {
    const runner = new ScriptedRunner([
      { status: 'failed', error: { code: 'function_error', message: 'exit 2' } },
      { status: 'completed', output: 'fine' },
    ]);
    const { functions, actions } = setup(runner);
    await functions.create({ name: 'check', runtime: 'process', command: ['x'] });
    const error = await actions.execute(request('f2', { function: 'check' })).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ActionError);
    expect(error).toMatchObject({ code: 'function_error', retryable: true });
    expect((error as Error).message).toContain('exit 2');
    expect(await actions.execute(request('f2', { function: 'check' }, 2))).toEqual({ output: 'fine' });
    expect(await store.functions.listExecutions({ functionName: 'check' })).toHaveLength(1);
  });

  it('does not retry what another try cannot fix: bad input, an unknown or inline function', async () => {
    const { functions, actions } = setup(new ScriptedRunner([]));
    await functions.create({
      name: 'strict',
      runtime: 'process',
      command: ['x'],
      inputSchema: { type: 'object', properties: { missing: { type: 'string' } }, required: ['missing'] },
    });
    await expect(actions.execute(request('f3', { function: 'strict' }))).rejects.toMatchObject({ code: 'invalid_input', retryable: false });
    await expect(actions.execute(request('f4', { function: 'nope' }))).rejects.toMatchObject({
      code: 'unknown_function',
      retryable: false,
    });
    await expect(actions.execute(request('f5', { function: { runtime: 'javascript' } }))).rejects.toMatchObject({
      code: 'inline_function_unsupported',
      retryable: false,
    });
    await expect(actions.execute(request('f6', { agent: 'writer' }))).rejects.toMatchObject({ code: 'wrong_executor' });
  });
});
