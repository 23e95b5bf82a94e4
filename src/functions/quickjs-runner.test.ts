import { describe, expect, it } from 'vitest';
import { functionDefinitionSchema, resolveLimits } from './function-definition.js';
import type { FunctionDefinitionInput } from './function-definition.js';
import type { RunOutcome } from './function-runner.js';
import { QuickJsRunner } from './quickjs-runner.js';

const runner = new QuickJsRunner();

async function run(code: string, input: unknown = {}, limits: FunctionDefinitionInput['limits'] = {}): Promise<RunOutcome> {
  const definition = functionDefinitionSchema.parse({ name: 'js-test', runtime: 'javascript', code, limits });
  return runner.run({
    definition,
    limits: resolveLimits(definition),
    input,
    executionId: 'exec_1',
    triggerEvent: { type: 'TOKEN_CREATED' },
    environment: { GREETING: 'hello' },
  });
}

describe('QuickJsRunner', () => {
  it('is ready once the WebAssembly module loads', async () => {
    expect(await runner.readiness()).toMatchObject({ ready: true });
  });

  it('returns the value the body returns, given its input and context', async () => {
    const outcome = await run(
      'return { doubled: input.n * 2, id: context.executionId, fn: context.functionId, env: context.env.GREETING };',
      {
        n: 21,
      },
    );
    expect(outcome).toMatchObject({ status: 'completed', output: { doubled: 42, id: 'exec_1', fn: 'js-test', env: 'hello' } });
  });

  it('awaits an async body', async () => {
    const outcome = await run('const value = await Promise.resolve(input.x); return [value, context.triggerEvent.type];', { x: 'a' });
    expect(outcome).toMatchObject({ status: 'completed', output: ['a', 'TOKEN_CREATED'] });
  });

  it('falls back to the last console line as JSON and captures console output', async () => {
    const outcome = await run('console.log("working", 1); console.error("careful"); console.log(JSON.stringify({ done: true }));');
    expect(outcome).toMatchObject({ status: 'completed', output: { done: true }, stderr: 'careful\n' });
    expect(outcome.stdout).toBe('working 1\n{"done":true}\n');
  });

  it('reports a thrown error as a failure with its message', async () => {
    const outcome = await run('throw new TypeError("no such order")');
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'function_error', message: 'TypeError: no such order' } });
  });

  it('reports a syntax error as a failure', async () => {
    const outcome = await run('return {');
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'function_error' } });
  });

  it('interrupts an infinite loop at the time limit', async () => {
    const started = performance.now();
    const outcome = await run('while (true) {}', {}, { timeoutMs: 200 });
    expect(outcome).toMatchObject({ status: 'timed_out', error: { code: 'timed_out' } });
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('stops a function that allocates past its memory limit', async () => {
    const outcome = await run(
      'const parts = []; while (true) parts.push(new Array(10000).fill(parts.length));',
      {},
      { memoryMb: 24, timeoutMs: 5000 },
    );
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'memory_exceeded' } });
    // Strings and typed arrays too: the bound is the instance's whole memory, not QuickJS's own count.
    for (const code of [
      'const parts = []; while (true) parts.push("x".repeat(100000) + parts.length);',
      'const parts = []; while (true) parts.push(new Uint8Array(100000));',
    ]) {
      expect(await run(code, {}, { memoryMb: 24, timeoutMs: 5000 })).toMatchObject({
        status: 'failed',
        error: { code: 'memory_exceeded' },
      });
    }
  });

  it('has no require, process, fs, fetch, timers or host globals', async () => {
    const outcome = await run(
      'return [typeof require, typeof process, typeof fetch, typeof setTimeout, typeof std, typeof os, typeof globalThis.Buffer, typeof import.meta];',
    );
    // `import.meta` is a syntax error outside modules: the whole body fails to compile.
    expect(outcome.status).toBe('failed');
    const globals = await run(
      'return [typeof require, typeof process, typeof fetch, typeof setTimeout, typeof std, typeof os, typeof globalThis.Buffer, typeof XMLHttpRequest];',
    );
    expect(globals).toMatchObject({ status: 'completed', output: Array(8).fill('undefined') });
  });

  it('cannot load modules dynamically', async () => {
    const outcome = await run('return await import("fs").then(() => "loaded", (error) => "refused: " + error.message);');
    expect(outcome.status === 'failed' || (outcome.status === 'completed' && String(outcome.output).startsWith('refused'))).toBe(true);
    expect(outcome).not.toMatchObject({ output: 'loaded' });
  });

  it('does not leak state from one execution to the next', async () => {
    await run('globalThis.leaked = 1; return null;');
    expect(await run('return typeof globalThis.leaked;')).toMatchObject({ output: 'undefined' });
  });

  it('fails when the output is not JSON-able or too large', async () => {
    expect(await run('return () => 1;')).toMatchObject({ status: 'failed', error: { code: 'function_error' } });
    expect(await run('return "x".repeat(5000);', {}, { maxOutputBytes: 1024 })).toMatchObject({
      status: 'failed',
      error: { code: 'output_too_large' },
    });
    expect(await run('console.log("not json")')).toMatchObject({ status: 'failed', error: { code: 'invalid_output' } });
  });

  it('stops when the signal aborts', async () => {
    const definition = functionDefinitionSchema.parse({ name: 'js-abort', runtime: 'javascript', code: 'while (true) {}' });
    const controller = new AbortController();
    controller.abort();
    const outcome = await runner.run({
      definition,
      limits: resolveLimits(definition),
      input: null,
      executionId: 'e',
      triggerEvent: null,
      environment: {},
      signal: controller.signal,
    });
    expect(outcome).toMatchObject({ status: 'cancelled' });
  });
});
