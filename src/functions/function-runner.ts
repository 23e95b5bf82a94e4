import type { FunctionDefinition, ResolvedLimits, Runtime } from './function-definition.js';

/**
 * The runner port: one implementation per runtime (QuickJS, bubblewrap process, Docker container).
 * A runner runs one attempt and reports what happened as a value; it never throws for a failure of the
 * function itself (bad exit code, timeout, bad output), only for a bug of its own.
 */
export interface FunctionRunner {
  readonly runtime: Runtime;
  /** Whether this runner can run anything on this machine, and if not, what to install or configure. */
  readiness(): Promise<RunnerReadiness>;
  run(request: RunRequest): Promise<RunOutcome>;
}

export type RunnerReadiness = { ready: true; detail: string } | { ready: false; reason: string };

export interface RunRequest {
  definition: FunctionDefinition;
  limits: ResolvedLimits;
  /** The validated input (JSON). */
  input: unknown;
  executionId: string;
  /** The event that triggered the execution, when any (JSON). */
  triggerEvent: unknown;
  /** The environment the definition asks for, with secrets resolved. */
  environment: Record<string, string>;
  /** Aborts the attempt (status `cancelled`). */
  signal?: AbortSignal;
}

/** Why an attempt did not complete: a string code and a message for the function's author. */
export interface RunError {
  code: RunErrorCode;
  message: string;
}

export const RunErrorCode = {
  /** Non-zero exit, or the JavaScript threw. */
  functionError: 'function_error',
  timedOut: 'timed_out',
  memoryExceeded: 'memory_exceeded',
  outputTooLarge: 'output_too_large',
  /** The last stdout line (or returned value) is not JSON. */
  invalidOutput: 'invalid_output',
  cancelled: 'cancelled',
  /** The runtime cannot run here (bubblewrap missing, no Docker daemon). */
  runtimeUnavailable: 'runtime_unavailable',
  /** Set by the service, not the runners. */
  invalidInput: 'invalid_input',
  outputSchema: 'output_schema',
  inputMapping: 'input_mapping',
  secretMissing: 'secret_missing',
  unknownFunction: 'unknown_function',
  disabled: 'function_disabled',
} as const;
export type RunErrorCode = (typeof RunErrorCode)[keyof typeof RunErrorCode];

interface OutcomeBase {
  stdout: string;
  stderr: string;
  durationMs: number;
  /** The process's exit code, when there was a process that exited. */
  exitCode?: number;
}

/** How an attempt ended: its output, or why there is none. */
export type RunVerdict = { status: 'completed'; output: unknown } | { status: 'failed' | 'timed_out' | 'cancelled'; error: RunError };

export type RunOutcome = OutcomeBase & RunVerdict;

/** An outcome for a failure that happened before anything ran. */
export function failedBeforeRun(code: RunErrorCode, message: string): RunOutcome {
  return { status: 'failed', error: { code, message }, stdout: '', stderr: '', durationMs: 0 };
}
