import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type * as QuickJSCore from 'quickjs-emscripten-core';
import type {
  CustomizeVariantOptions,
  QuickJSContext,
  QuickJSHandle,
  QuickJSSyncVariant,
  QuickJSWASMModule,
} from 'quickjs-emscripten-core';
import { parseLastLine } from './output-contract.js';
import { BoundedText } from './bounded-text.js';
import type { FunctionRunner, RunnerReadiness, RunOutcome, RunRequest, RunVerdict } from './function-runner.js';
import { RunErrorCode } from './function-runner.js';

/** The WebAssembly build of QuickJS, a file of its package. */
const wasmPath = (): string => createRequire(import.meta.url).resolve('@jitl/quickjs-wasmfile-release-sync/wasm');

/**
 * JavaScript functions in QuickJS compiled to WebAssembly (quickjs-emscripten, docs/adr/0009). The code
 * is the body of `function (input, context)`; it sees only standard ECMAScript, its `input`, a
 * `context` ({ executionId, functionId, triggerEvent, env }) and a `console` whose lines are captured —
 * no `require`, no `process`, no file system, no network, no timers. Its output is the returned value
 * (awaited if it is a promise); when it returns `undefined`, the last console line is parsed as JSON, as
 * for the process runtime.
 *
 * Every execution gets its own WebAssembly instance with its own linear memory whose maximum is the
 * memory limit: QuickJS's own `setMemoryLimit` under Emscripten bounds single allocations only
 * (upstream quickjs-emscripten issue #271), so the hard bound is the memory the instance can grow to.
 * The time limit is an interrupt handler QuickJS calls while it runs.
 *
 * quickjs-emscripten and the WebAssembly module are loaded and compiled on the first run, not at start
 * (docs/adr/0014-bundled-build-and-lazy-loading.md): a server with no JavaScript function never needs them.
 */
export class QuickJsRunner implements FunctionRunner {
  readonly runtime = 'javascript' as const;
  private compiled: Promise<{ wasmModule: WasmModule; core: typeof QuickJSCore; variant: QuickJSSyncVariant }> | undefined;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** A fresh QuickJS instance whose memory cannot grow past `memoryMb` (the WebAssembly module is compiled once). */
  private async load(memoryMb: number): Promise<QuickJSWASMModule> {
    this.compiled ??= Promise.all([
      readFile(wasmPath()).then((bytes) => wasm.compile(bytes)),
      import('quickjs-emscripten-core'),
      import('@jitl/quickjs-wasmfile-release-sync'),
    ]).then(([wasmModule, core, variant]) => ({
      wasmModule,
      core,
      // The package's types describe its CommonJS build (a `default` property); Node's ESM import gives the variant itself.
      variant: ((variant as { default?: unknown }).default ?? variant) as QuickJSSyncVariant,
    }));
    const { wasmModule, core, variant } = await this.compiled;
    const maximum = Math.max(initialPages + 16, Math.floor(memoryMb * 16));
    const wasmMemory = new wasm.Memory({ initial: initialPages, maximum });
    return core.newQuickJSWASMModuleFromVariant(core.newVariant(variant, { wasmModule, wasmMemory }));
  }

  /** Ready when the WebAssembly build is installed; it is compiled by the first run (a run that cannot load it fails with the reason). */
  async readiness(): Promise<RunnerReadiness> {
    if (this.compiled) {
      try {
        await this.compiled;
        return { ready: true, detail: 'QuickJS (WebAssembly) loaded' };
      } catch (error) {
        return { ready: false, reason: `QuickJS could not be loaded: ${error instanceof Error ? error.message : String(error)}` };
      }
    }
    try {
      if (!existsSync(wasmPath())) return { ready: false, reason: 'QuickJS could not be loaded: its WebAssembly file is missing' };
    } catch (error) {
      return { ready: false, reason: `QuickJS could not be loaded: ${error instanceof Error ? error.message : String(error)}` };
    }
    return { ready: true, detail: 'QuickJS (WebAssembly) installed; compiled on the first run' };
  }

  async run(request: RunRequest): Promise<RunOutcome> {
    const module = await this.load(request.limits.memoryMb);
    const started = this.now();
    const stdout = new BoundedText(request.limits.maxOutputBytes);
    const stderr = new BoundedText(request.limits.maxOutputBytes);
    const deadline = started + request.limits.timeoutMs;
    const runtime = module.newRuntime();
    runtime.setMemoryLimit(request.limits.memoryMb * 1024 * 1024);
    runtime.setMaxStackSize(1024 * 1024);
    let interruptedBy: 'time' | 'abort' | undefined;
    runtime.setInterruptHandler(() => {
      if (request.signal?.aborted) interruptedBy = 'abort';
      else if (this.now() > deadline) interruptedBy = 'time';
      return interruptedBy !== undefined;
    });
    const context = runtime.newContext();
    const finish = (verdict: RunVerdict): RunOutcome => ({
      ...verdict,
      stdout: stdout.text(),
      stderr: stderr.text(),
      durationMs: this.now() - started,
    });
    let broken = false;
    try {
      installConsole(context, stdout, stderr);
      const result = evaluate(context, request);
      const pending = runtime.executePendingJobs();
      if (pending.error) pending.error.dispose();
      const failure = (message: string): RunOutcome => {
        if (interruptedBy === 'time')
          return finish({
            status: 'timed_out',
            error: { code: RunErrorCode.timedOut, message: `the function ran longer than its limit of ${request.limits.timeoutMs} ms` },
          });
        if (interruptedBy === 'abort')
          return finish({ status: 'cancelled', error: { code: RunErrorCode.cancelled, message: 'cancelled' } });
        if (/out of memory/i.test(message))
          return finish({
            status: 'failed',
            error: {
              code: RunErrorCode.memoryExceeded,
              message: `the function used more than its limit of ${request.limits.memoryMb} MiB`,
            },
          });
        return finish({ status: 'failed', error: { code: RunErrorCode.functionError, message } });
      };
      if (result.kind === 'error') return failure(result.message);
      if (stdout.overflowed || stderr.overflowed)
        return finish({
          status: 'failed',
          error: { code: RunErrorCode.outputTooLarge, message: `the function logged more than ${request.limits.maxOutputBytes} bytes` },
        });
      const settled = settle(context, result.handle);
      if (settled.kind === 'error') return failure(settled.message);
      if (settled.json === undefined) {
        const parsed = parseLastLine(stdout.text());
        return parsed.ok
          ? finish({ status: 'completed', output: parsed.output })
          : finish({ status: 'failed', error: { code: RunErrorCode.invalidOutput, message: parsed.message } });
      }
      if (settled.json.length > request.limits.maxOutputBytes)
        return finish({
          status: 'failed',
          error: { code: RunErrorCode.outputTooLarge, message: `the returned value is larger than ${request.limits.maxOutputBytes} bytes` },
        });
      return finish({ status: 'completed', output: JSON.parse(settled.json) as unknown });
    } catch (error) {
      // The host's own stack: QuickJS's stack check is off under Emscripten, so deep recursion in the
      // guest exhausts the Node stack inside the WebAssembly call. The instance is not reused.
      broken = true;
      const message =
        error instanceof RangeError ? 'stack overflow: the recursion is too deep' : `the JavaScript engine failed: ${String(error)}`;
      return finish({ status: 'failed', error: { code: RunErrorCode.functionError, message } });
    } finally {
      // A broken instance is dropped whole (it belongs to this execution alone) rather than freed: QuickJS
      // may abort while freeing after such errors.
      if (!broken) {
        try {
          context.dispose();
          runtime.dispose();
        } catch {
          // the same: drop it
        }
      }
    }
  }
}

/** Node's WebAssembly global (the project's TypeScript lib has its types but not the value). */
interface WasmGlobal {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  Memory: new (descriptor: { initial: number; maximum: number }) => NonNullable<CustomizeVariantOptions['wasmMemory']>;
}
type WasmModule = NonNullable<CustomizeVariantOptions['wasmModule']>;
const wasm = (globalThis as unknown as { WebAssembly: WasmGlobal }).WebAssembly;

/** 64 KiB WebAssembly pages the engine starts with (16 MiB, its build's initial memory). */
const initialPages = 256;

type Evaluated = { kind: 'value'; handle: QuickJSHandle } | { kind: 'error'; message: string };

/** Compiles the body as a function and calls it with the input and context (both JSON-copied in). */
function evaluate(context: QuickJSContext, request: RunRequest): Evaluated {
  const source = `(async function (input, context) {\n"use strict";\n${request.definition.code ?? ''}\n})`;
  const compiled = context.evalCode(source, `${request.definition.name}.js`);
  if (compiled.error) return { kind: 'error', message: errorText(context, compiled.error) };
  const callContext = {
    executionId: request.executionId,
    functionId: request.definition.name,
    triggerEvent: request.triggerEvent ?? null,
    env: request.environment,
  };
  const input = jsonHandle(context, request.input ?? null);
  const contextHandle = jsonHandle(context, callContext);
  const called = context.callFunction(compiled.value, context.undefined, input, contextHandle);
  compiled.value.dispose();
  input.dispose();
  contextHandle.dispose();
  if (called.error) return { kind: 'error', message: errorText(context, called.error) };
  return { kind: 'value', handle: called.value };
}

type Settled = { kind: 'value'; json: string | undefined } | { kind: 'error'; message: string };

/** The value as JSON text (undefined for `undefined`), awaiting a promise that the pending jobs settled. */
function settle(context: QuickJSContext, handle: QuickJSHandle): Settled {
  let value = handle;
  if (context.typeof(handle) === 'object') {
    const state = context.getPromiseState(handle);
    if (state.type === 'pending') {
      handle.dispose();
      return { kind: 'error', message: 'the returned promise never settled (QuickJS functions have no timers or I/O to wait for)' };
    }
    if (state.type === 'rejected') {
      handle.dispose();
      return { kind: 'error', message: errorText(context, state.error) };
    }
    if (!state.notAPromise) {
      handle.dispose();
      value = state.value;
    }
  }
  if (context.typeof(value) === 'undefined') {
    value.dispose();
    return { kind: 'value', json: undefined };
  }
  const stringify = jsonMethod(context, 'stringify');
  const text = context.callFunction(stringify, context.undefined, value);
  stringify.dispose();
  value.dispose();
  if (text.error) return { kind: 'error', message: `the returned value cannot be turned into JSON: ${errorText(context, text.error)}` };
  const json = context.typeof(text.value) === 'string' ? context.getString(text.value) : undefined;
  text.value.dispose();
  return json === undefined
    ? { kind: 'error', message: 'the returned value cannot be turned into JSON (a function or symbol?)' }
    : { kind: 'value', json };
}

function jsonHandle(context: QuickJSContext, value: unknown): QuickJSHandle {
  const text = context.newString(JSON.stringify(value));
  const parse = jsonMethod(context, 'parse');
  const parsed = context.unwrapResult(context.callFunction(parse, context.undefined, text));
  parse.dispose();
  text.dispose();
  return parsed;
}

function jsonMethod(context: QuickJSContext, name: 'parse' | 'stringify'): QuickJSHandle {
  const json = context.getProp(context.global, 'JSON');
  const method = context.getProp(json, name);
  json.dispose();
  return method;
}

function errorText(context: QuickJSContext, error: QuickJSHandle): string {
  const dumped = context.dump(error) as unknown;
  error.dispose();
  if (typeof dumped === 'object' && dumped !== null && 'message' in dumped) {
    const { name, message } = dumped as { name?: unknown; message?: unknown };
    return `${typeof name === 'string' ? name : 'Error'}: ${String(message)}`;
  }
  return `thrown: ${JSON.stringify(dumped) ?? String(dumped)}`;
}

/** `console.log/info/debug` → stdout, `console.warn/error` → stderr, one line per call. */
function installConsole(context: QuickJSContext, stdout: BoundedText, stderr: BoundedText): void {
  const consoleHandle = context.newObject();
  for (const [method, sink] of [
    ['log', stdout],
    ['info', stdout],
    ['debug', stdout],
    ['warn', stderr],
    ['error', stderr],
  ] as const) {
    const fn = context.newFunction(method, (...args) => {
      sink.append(`${args.map((arg) => formatArg(context, arg)).join(' ')}\n`);
    });
    context.setProp(consoleHandle, method, fn);
    fn.dispose();
  }
  context.setProp(context.global, 'console', consoleHandle);
  consoleHandle.dispose();
}

function formatArg(context: QuickJSContext, arg: QuickJSHandle): string {
  if (context.typeof(arg) === 'string') return context.getString(arg);
  const dumped = context.dump(arg) as unknown;
  return typeof dumped === 'object' && dumped !== null ? JSON.stringify(dumped) : String(dumped);
}
