import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.js';
import type { FunctionRunner, RunOutcome, RunRequest } from '../functions/function-runner.js';
import { QuickJsRunner } from '../functions/quickjs-runner.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import type { BusMessage } from '../streaming/event-bus.js';
import { MemoryEventBus } from '../streaming/memory-event-bus.js';
import { fakeClock, refusal } from '../../test/support/unit.js';
import { FunctionService } from './function-service.js';

/** A runner whose outcomes the test scripts, recording each request. */
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
let clock: ReturnType<typeof fakeClock>;
let sleeps: number[];
let published: BusMessage[];

function service(runners: FunctionRunner[] = [new QuickJsRunner()], secrets: Record<string, string> = {}) {
  return new FunctionService({
    repository: store.functions,
    runners,
    events,
    clock,
    logger: silentLogger,
    secrets: { resolve: (name) => Promise.resolve(secrets[name]) },
    sleep: (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
      return Promise.resolve();
    },
    random: () => 0.5,
  });
}

const js = (name: string, code: string, extra: Record<string, unknown> = {}) => ({ name, runtime: 'javascript', code, ...extra });
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

beforeEach(async () => {
  store = await SqliteStore.open(':memory:');
  events = new MemoryEventBus();
  clock = fakeClock(1_000_000);
  sleeps = [];
  published = [];
  events.subscribe('>', (message) => published.push(message));
});
afterEach(async () => {
  await events.close();
  await store.close();
});

describe('FunctionService definitions', () => {
  it('registers, versions, lists and deletes functions', async () => {
    const functions = service();
    const created = await functions.create(js('double', 'return input.n * 2'));
    expect(created).toMatchObject({ name: 'double', version: 1, definition: { runtime: 'javascript', enabled: true } });
    expect((await refusal(functions.create(js('double', 'return 1')))).status).toBe(409);
    clock.advance(10);
    const updated = await functions.update('double', { runtime: 'javascript', code: 'return input.n * 3' });
    expect(updated).toMatchObject({ version: 2, createdAt: created.createdAt, updatedAt: created.createdAt + 10 });
    expect((await functions.list()).map((entry) => entry.name)).toEqual(['double']);
    expect((await functions.invoke('double', { n: 2 })).output).toBe(6);
    await functions.delete('double');
    expect((await refusal(functions.get('double'))).status).toBe(404);
    expect((await refusal(functions.invoke('double', {}))).status).toBe(404);
  });

  it('checks function actions at publish: registered names pass, unknown ones get a suggestion, inline specs are refused', async () => {
    await service().create(js('preloaded', 'return 1'));
    const functions = service();
    expect(functions.checkAction({ function: 'preloaded' })).toHaveLength(1);
    await functions.start();
    expect(functions.checkAction({ function: 'preloaded' })).toEqual([]);
    await functions.create(js('double', 'return input.n * 2'));
    expect(functions.checkAction({ function: 'double' })).toEqual([]);
    expect(functions.checkAction({ function: 'doubel' })[0]).toMatch(/function 'doubel' is not registered; did you mean 'double'\?/);
    expect(functions.checkAction({ function: 'nothing-like-it' })[0]).not.toMatch(/did you mean/);
    expect(functions.checkAction({ function: { name: 'x', runtime: 'javascript', code: 'return 1' } })[0]).toMatch(
      /inline function \('x'\) is not supported: register it with POST \/api\/v1\/functions/,
    );
    expect(functions.checkAction({ agent: 'writer' })).toEqual([]);
    await functions.delete('double');
    expect(functions.checkAction({ function: 'double' })).toHaveLength(1);
    await functions.stop();
  });

  it('refuses a definition with every problem listed: shape, schema, rule, mapping', async () => {
    const error = await refusal(
      service().create({
        name: 'bad',
        runtime: 'javascript',
        code: 'return 1',
        inputSchema: { type: 'objekt' },
        triggers: [{ on: 'token_created', filter: 'token.data.x > 1', input: { a: 'output.x' } }],
        chains: [{ function: 'next', when: 'rule' }],
      }),
    );
    expect(error.status).toBe(400);
    expect(error.message).toContain('chains.0.rule');
    const second = await refusal(
      service().create({
        name: 'bad',
        runtime: 'javascript',
        code: 'return 1',
        inputSchema: { type: 'objekt' },
        triggers: [{ on: 'token_created', filter: 'token.data.x > 1', input: { a: 'output.x' } }],
      }),
    );
    expect(second.message).toContain('inputSchema');
    expect(second.message).toContain('triggers.0.filter');
    expect(second.message).toContain("triggers.0.input: 'output.x' must start with 'event.'");
    expect((await refusal(service().create({ name: 'p', runtime: 'process' }))).message).toContain("needs 'command'");
  });
});

describe('FunctionService invoke', () => {
  it('records a completed execution with input, output, console and duration', async () => {
    const functions = service();
    await functions.create(js('greet', 'console.log("hi"); return { hello: input.name };'));
    const record = await functions.invoke('greet', { name: 'ana' });
    expect(record).toMatchObject({
      status: 'completed',
      attempt: 1,
      input: { name: 'ana' },
      output: { hello: 'ana' },
      stdout: 'hi\n',
      trigger: { kind: 'manual' },
    });
    expect(await store.functions.getExecution(record.id)).toEqual(record);
    expect(
      published.filter((message) => message.topic === 'functions.greet').map((message) => (message.payload as { type: string }).type),
    ).toEqual(['FUNCTION_EXECUTING', 'FUNCTION_COMPLETED']);
  });

  it('validates input before and output after', async () => {
    const runner = new ScriptedRunner([{ status: 'completed', output: { total: 'not a number' } }]);
    const functions = service([runner]);
    await functions.create({
      name: 'sum',
      runtime: 'process',
      command: ['true'],
      inputSchema: { type: 'object', required: ['items'], properties: { items: { type: 'array' } } },
      outputSchema: { type: 'object', required: ['total'], properties: { total: { type: 'number' } } },
      retry: { attempts: 3 },
    });
    expect(await functions.invoke('sum', { item: [] })).toMatchObject({ status: 'failed', error: { code: 'invalid_input' }, attempt: 0 });
    expect(runner.requests).toHaveLength(0);
    const bad = await functions.invoke('sum', { items: [] });
    expect(bad).toMatchObject({
      status: 'failed',
      error: { code: 'output_schema', message: 'the output does not match outputSchema: /total must be number' },
    });
    expect(runner.requests).toHaveLength(1); // a schema failure is not retried
  });

  it('retries failures with exponential backoff, then succeeds', async () => {
    const runner = new ScriptedRunner([
      { status: 'failed', error: { code: 'function_error', message: 'exit 1' } },
      { status: 'timed_out', error: { code: 'timed_out', message: 'slow' } },
      { status: 'completed', output: 42 },
    ]);
    const functions = service([runner]);
    await functions.create({
      name: 'flaky',
      runtime: 'process',
      command: ['x'],
      retry: { attempts: 4, initialDelayMs: 1000, multiplier: 3, jitter: 0.2 },
    });
    const started = clock.now();
    const record = await functions.invoke('flaky', {});
    expect(record).toMatchObject({ status: 'completed', attempt: 3, output: 42, error: null });
    expect(sleeps).toEqual([1000, 3000]);
    expect(record.durationMs).toBe(4000);
    expect(record.startedAt).toBe(started);
  });

  it('gives up after the last attempt and does not retry what retrying cannot fix', async () => {
    const failing = { status: 'failed' as const, error: { code: 'function_error' as const, message: 'boom' } };
    const runner = new ScriptedRunner([
      failing,
      failing,
      failing,
      { status: 'failed', error: { code: 'invalid_output', message: 'not json' } },
    ]);
    const functions = service([runner]);
    await functions.create({ name: 'broken', runtime: 'process', command: ['x'], retry: { attempts: 3, initialDelayMs: 10, jitter: 0 } });
    expect(await functions.invoke('broken', {})).toMatchObject({ status: 'failed', attempt: 3, error: { message: 'boom' } });
    expect(sleeps).toEqual([10, 20]);
    expect(await functions.invoke('broken', {})).toMatchObject({ status: 'failed', attempt: 1, error: { code: 'invalid_output' } });
  });

  it('resolves secrets into the environment and masks them in what it records', async () => {
    const functions = service([new QuickJsRunner()], { 'api-token': 'sk-very-secret-123' });
    await functions.create(
      js('leaky', 'console.log(context.env.TOKEN); return { token: context.env.TOKEN, mode: context.env.MODE };', {
        secrets: { TOKEN: 'api-token' },
        environment: { MODE: 'test' },
      }),
    );
    const record = await functions.invoke('leaky', {});
    expect(record).toMatchObject({ status: 'completed', output: { token: '[redacted]', mode: 'test' }, stdout: '[redacted]\n' });
    expect(JSON.stringify(await store.functions.getExecution(record.id))).not.toContain('sk-very-secret-123');
    expect(JSON.stringify(await functions.get('leaky'))).not.toContain('sk-very-secret-123');
    await functions.create(js('needs-secret', 'return 1', { secrets: { TOKEN: 'missing' } }));
    expect(await functions.invoke('needs-secret', {})).toMatchObject({ status: 'failed', error: { code: 'secret_missing' } });
  });

  it('fails a process function clearly when its runtime is not there', async () => {
    const functions = service([new QuickJsRunner()]);
    await functions.create({ name: 'cmd', runtime: 'process', command: ['true'] });
    expect(await functions.invoke('cmd', {})).toMatchObject({ status: 'failed', error: { code: 'runtime_unavailable' } });
  });
});

describe('FunctionService triggers', () => {
  const topic = 'workflow.orders.instance.i1';

  it('runs on matching engine events with the filter and the input mapping, once per event', async () => {
    const functions = service();
    await functions.create(
      js('notify', 'return { orderId: input.order, place: input.where };', {
        triggers: [
          {
            on: 'token_created',
            place: 'review',
            filter: 'event.data.token.data.priority > 5',
            input: { order: 'event.data.token.data.id', where: 'event.places.0' },
          },
        ],
      }),
    );
    await functions.start();
    const event = (sequence: number, place: string, priority: number) => ({
      type: 'TOKEN_CREATED',
      workflowId: 'orders',
      instanceId: 'i1',
      sequence,
      data: { token: { place, data: { id: `o${sequence}`, priority } } },
    });
    await events.publish(topic, event(1, 'review', 9));
    await events.publish(topic, event(1, 'review', 9)); // the same event again (another replica, a redelivery)
    await events.publish(topic, event(2, 'review', 1)); // filtered out
    await events.publish(topic, event(3, 'draft', 9)); // another place
    await settle();
    await functions.idle();
    const runs = await functions.executions('notify');
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      status: 'completed',
      output: { orderId: 'o1', place: 'review' },
      trigger: { kind: 'event', detail: 'TOKEN_CREATED' },
      workflowId: 'orders',
      instanceId: 'i1',
    });
    const onInstance = published.filter((message) => message.topic === topic).map((message) => (message.payload as { type: string }).type);
    expect(onInstance).toContain('FUNCTION_EXECUTING');
    expect(onInstance).toContain('FUNCTION_COMPLETED');
    await functions.stop();
  });

  it('records a failed execution when the input mapping finds nothing', async () => {
    const functions = service();
    await functions.create(
      js('mapped', 'return 1', { triggers: [{ on: 'custom', event: 'deploy', input: { env: 'event.data.environment' } }] }),
    );
    await functions.start();
    await functions.emit('deploy', { region: 'eu' });
    await settle();
    await functions.idle();
    expect(await functions.executions('mapped')).toMatchObject([{ status: 'failed', error: { code: 'input_mapping' } }]);
    await functions.stop();
  });

  it('runs on another function completing, by success', async () => {
    const functions = service();
    await functions.create(js('first', 'if (input.fail) throw new Error("no"); return { n: 1 };'));
    await functions.create(
      js('after-ok', 'return input.output;', {
        triggers: [{ on: 'function_completed', function: 'first', success: true, input: { output: 'event.data.output' } }],
      }),
    );
    await functions.create(
      js('after-fail', 'return input;', { triggers: [{ on: 'function_completed', function: 'first', success: false }] }),
    );
    await functions.start();
    await functions.invoke('first', {});
    await settle();
    await functions.idle();
    expect(await functions.executions('after-ok')).toMatchObject([{ status: 'completed', output: { n: 1 } }]);
    expect(await functions.executions('after-fail')).toEqual([]);
    await functions.invoke('first', { fail: true });
    await settle();
    await functions.idle();
    expect(await functions.executions('after-fail')).toHaveLength(1);
    await functions.stop();
  });
});

describe('FunctionService chains', () => {
  it('chains on success after a delay, on failure, and when a rule passes, linking the executions', async () => {
    const functions = service();
    await functions.create(
      js('parent', 'if (input.fail) throw new Error("bad input"); return { n: input.n };', {
        chains: [
          { function: 'on-success', when: 'success', delayMs: 5000, input: { value: 'output.n' } },
          { function: 'on-failure', when: 'failure' },
          { function: 'on-big', when: 'rule', rule: 'output.n > 10' },
        ],
      }),
    );
    await functions.create(js('on-success', 'return input.value + 1;'));
    await functions.create(js('on-failure', 'return input.error.message;'));
    await functions.create(js('on-big', 'return "big";'));
    const parent = await functions.invoke('parent', { n: 5 });
    await functions.idle();
    const [child] = await functions.executions('on-success');
    expect(child).toMatchObject({
      status: 'completed',
      output: 6,
      parentId: parent.id,
      chainRootId: parent.id,
      trigger: { kind: 'chain', detail: 'parent' },
    });
    expect(child?.scheduledAt).toBe((parent.finishedAt ?? 0) + 5000);
    expect(child?.startedAt).toBeGreaterThanOrEqual(child?.scheduledAt ?? Infinity);
    expect(sleeps).toEqual([5000]);
    expect(await functions.executions('on-failure')).toEqual([]);
    expect(await functions.executions('on-big')).toEqual([]);
    expect((await store.functions.getExecution(parent.id))?.chainRootId).toBe(parent.id);

    await functions.invoke('parent', { n: 50 });
    await functions.idle();
    expect(await functions.executions('on-big')).toMatchObject([{ status: 'completed', output: 'big' }]);

    const failed = await functions.invoke('parent', { fail: true });
    await functions.idle();
    expect(await functions.executions('on-failure')).toMatchObject([{ output: 'Error: bad input', parentId: failed.id }]);
  });

  it('stops a chain that loops on itself at the chain limit', async () => {
    const functions = service();
    await functions.create(js('loop', 'return (input ?? 0) + 1;', { chains: [{ function: 'loop', when: 'always' }] }));
    const first = await functions.invoke('loop', 0);
    await functions.idle();
    const chain = await store.functions.listExecutions({ chainRootId: first.id, limit: 500 });
    expect(chain.length).toBe(25);
  });

  it('resumes executions left pending when it starts again', async () => {
    const functions = service();
    await functions.create(js('later', 'return "ran";'));
    const record = { ...(await functions.invoke('later', {}, { wait: false })) };
    await functions.idle();
    await store.functions.updateExecution({
      ...record,
      id: record.id,
      status: 'pending',
      attempt: 0,
      output: null,
      scheduledAt: clock.now() + 1000,
    });
    const restarted = service();
    await restarted.start();
    await restarted.idle();
    expect(await store.functions.getExecution(record.id)).toMatchObject({ status: 'completed', output: 'ran' });
    expect(sleeps).toEqual([1000]);
    await restarted.stop();
  });
});
