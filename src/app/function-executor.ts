import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { createRedactor } from '../core/redact.js';
import type { Redact } from '../core/redact.js';
import type { CompiledFunction } from '../functions/compile-function.js';
import { resolveLimits } from '../functions/function-definition.js';
import type { FunctionRunner, RunOutcome } from '../functions/function-runner.js';
import { RunErrorCode } from '../functions/function-runner.js';
import { mapInput } from '../functions/input-mapping.js';
import { isRetryable, retryDelayMs } from '../functions/retry-delay.js';
import type { FunctionExecutionRecord, FunctionRepository } from '../storage/function-repository.js';
import type { EventBus } from '../streaming/event-bus.js';
import { safeToken, topics } from '../streaming/event-bus.js';

/** Resolves secrets by name (a vault, the environment); undefined when there is no such secret. */
export interface SecretResolver {
  resolve(name: string): Promise<string | undefined>;
}

/** Waits (backoff, chain delays); injectable so tests move a fake clock instead of sleeping. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/** The bus topic of one function's own events (`functions.<name>`). */
export const functionTopic = (name: string) => `functions.${safeToken(name)}`;

/** The longest chain (executions linked from one root) before further links are refused. */
export const maxChainLength = 25;

export interface FunctionExecutorOptions {
  repository: FunctionRepository;
  runners: ReadonlyMap<string, FunctionRunner>;
  events: EventBus;
  clock: Clock;
  logger: Logger;
  secrets: SecretResolver;
  /** Masks the server's own configured secrets too. */
  redact: Redact;
  sleep: Sleep;
  random: () => number;
  /** Looks a chained function up by name. */
  resolve: (name: string) => Promise<VersionedFunction | undefined>;
  /** Background work (chains) is handed here so the service can wait for it. */
  track: (work: Promise<unknown>) => void;
  /** Aborted when the service stops: waits end and what was waiting stays recorded (pending/retrying) for the next start. */
  stopping: AbortSignal;
}

/**
 * Runs one recorded execution to its end: input schema, secrets, attempts with backoff, output schema,
 * the record after each step, FUNCTION_EXECUTING / FUNCTION_COMPLETED on the bus, then the chains.
 */
export class FunctionExecutor {
  constructor(private readonly options: FunctionExecutorOptions) {}

  /** A new execution record (pending) for a function; the caller inserts it. */
  newRecord(compiled: CompiledFunction, version: number, fields: Partial<FunctionExecutionRecord>): FunctionExecutionRecord {
    const now = this.options.clock.now();
    return {
      id: `fx_${randomBytes(12).toString('base64url')}`,
      functionName: compiled.definition.name,
      functionVersion: version,
      status: 'pending',
      attempt: 0,
      maxAttempts: compiled.definition.retry?.attempts ?? 1,
      input: null,
      output: null,
      error: null,
      stdout: '',
      stderr: '',
      exitCode: null,
      trigger: { kind: 'manual' },
      triggerEvent: null,
      workflowId: null,
      instanceId: null,
      parentId: null,
      chainRootId: null,
      idempotencyKey: null,
      createdAt: now,
      scheduledAt: now,
      startedAt: null,
      finishedAt: null,
      durationMs: null,
      ...fields,
    };
  }

  /** Runs the execution (already inserted) through its attempts; resolves with its final record. */
  async run(record: FunctionExecutionRecord, compiled: CompiledFunction, signal?: AbortSignal): Promise<FunctionExecutionRecord> {
    const { definition } = compiled;
    const current = { ...record };
    const fail = (code: string, message: string) => this.finish(current, compiled, { status: 'failed', error: { code, message } });
    if (!definition.enabled) return fail(RunErrorCode.disabled, `the function '${definition.name}' is disabled`);
    if (current.error?.code === RunErrorCode.inputMapping) return fail(current.error.code, current.error.message);
    const inputFindings = compiled.inputSchema?.check(current.input) ?? [];
    if (inputFindings.length > 0)
      return fail(RunErrorCode.invalidInput, `the input does not match inputSchema: ${inputFindings.join('; ')}`);
    const environment: Record<string, string> = { ...definition.environment };
    const secretValues: string[] = [];
    for (const [variable, name] of Object.entries(definition.secrets)) {
      const value = await this.options.secrets.resolve(name);
      if (value === undefined) return fail(RunErrorCode.secretMissing, `the secret '${name}' (for ${variable}) is not configured`);
      environment[variable] = value;
      secretValues.push(value);
    }
    const mask = createRedactor(secretValues);
    const redact = (text: string) => this.options.redact(mask(text));
    const limits = resolveLimits(definition);
    const runner = this.options.runners.get(definition.runtime);
    if (runner === undefined)
      return fail(
        RunErrorCode.runtimeUnavailable,
        `runtime '${definition.runtime}' is not available on this server (${runtimeHint(definition.runtime)})`,
      );
    const policy = definition.retry;
    for (;;) {
      current.attempt += 1;
      current.status = 'running';
      current.startedAt ??= this.options.clock.now();
      await this.options.repository.updateExecution(current);
      await this.publish(current, { type: 'FUNCTION_EXECUTING', attempt: current.attempt, maxAttempts: current.maxAttempts });
      const outcome = checkOutput(
        await runner
          .run({
            definition,
            limits,
            input: current.input,
            executionId: current.id,
            triggerEvent: current.triggerEvent,
            environment,
            ...(signal === undefined ? {} : { signal }),
          })
          .catch((error: unknown) => runnerBroke(error, this.options.logger, current.id)),
        compiled,
      );
      current.stdout = redact(outcome.stdout);
      current.stderr = redact(outcome.stderr);
      current.exitCode = outcome.exitCode ?? null;
      if (outcome.status === 'completed')
        return this.finish(current, compiled, { status: 'completed', output: maskJson(outcome.output, redact) });
      const error = { code: outcome.error.code, message: redact(outcome.error.message) };
      const again =
        outcome.status !== 'cancelled' &&
        current.attempt < current.maxAttempts &&
        isRetryable(policy, outcome.status, outcome.error.code) &&
        !signal?.aborted;
      if (!again || policy === undefined) return this.finish(current, compiled, { status: outcome.status, error });
      const delay = retryDelayMs(policy, current.attempt, this.options.random);
      current.status = 'retrying';
      current.error = error;
      current.scheduledAt = this.options.clock.now() + delay;
      await this.options.repository.updateExecution(current);
      this.options.logger.info('function attempt failed; retrying', {
        function: definition.name,
        execution: current.id,
        attempt: current.attempt,
        delayMs: delay,
        code: error.code,
      });
      await this.options.sleep(delay, signal === undefined ? this.options.stopping : AbortSignal.any([signal, this.options.stopping]));
      if (this.options.stopping.aborted) return current;
    }
  }

  private async finish(
    record: FunctionExecutionRecord,
    compiled: CompiledFunction,
    end:
      { status: 'completed'; output: unknown } | { status: 'failed' | 'timed_out' | 'cancelled'; error: { code: string; message: string } },
  ): Promise<FunctionExecutionRecord> {
    const now = this.options.clock.now();
    const final: FunctionExecutionRecord = {
      ...record,
      status: end.status,
      output: end.status === 'completed' ? end.output : null,
      error: end.status === 'completed' ? null : end.error,
      finishedAt: now,
      durationMs: record.startedAt === null ? 0 : now - record.startedAt,
    };
    await this.options.repository.updateExecution(final);
    const success = final.status === 'completed';
    await this.publish(final, {
      type: 'FUNCTION_COMPLETED',
      success,
      status: final.status,
      ...(success ? { output: final.output } : { error: final.error }),
      durationMs: final.durationMs,
    });
    this.options.track(this.chain(final, compiled));
    return final;
  }

  /** FUNCTION_* events on `functions.<name>`, and on the instance's topic when the execution belongs to one. */
  private async publish(record: FunctionExecutionRecord, fields: Record<string, unknown>): Promise<void> {
    const payload = {
      ...fields,
      functionName: record.functionName,
      executionId: record.id,
      workflowId: record.workflowId,
      instanceId: record.instanceId,
      at: this.options.clock.now(),
    };
    try {
      await this.options.events.publish(functionTopic(record.functionName), payload);
      if (record.workflowId !== null && record.instanceId !== null)
        await this.options.events.publish(topics.workflowInstance(record.workflowId, record.instanceId), payload);
    } catch (error) {
      this.options.logger.warn('function event not published', { execution: record.id, error: String(error) });
    }
  }

  /** Starts the chained functions whose condition holds, each after its delay, linked to `parent`. */
  private async chain(parent: FunctionExecutionRecord, compiled: CompiledFunction): Promise<void> {
    const success = parent.status === 'completed';
    const data = {
      output: parent.output,
      input: parent.input,
      error: parent.error,
      execution: { id: parent.id, functionName: parent.functionName, status: parent.status, attempt: parent.attempt },
    };
    for (const [index, { chain, rule }] of compiled.chains.entries()) {
      const holds =
        chain.when === 'always' ||
        (chain.when === 'success' && success) ||
        (chain.when === 'failure' && !success) ||
        (chain.when === 'rule' && rule !== undefined && rule.evaluate(data).passed);
      if (!holds) continue;
      const target = await this.options.resolve(chain.function);
      const rootId = parent.chainRootId ?? parent.id;
      if (target === undefined) {
        this.options.logger.warn('chained function does not exist', { from: parent.functionName, to: chain.function });
        continue;
      }
      if ((await this.options.repository.listExecutions({ chainRootId: rootId, limit: maxChainLength + 1 })).length >= maxChainLength) {
        this.options.logger.warn('chain too long; link not started', { root: rootId, to: chain.function, max: maxChainLength });
        continue;
      }
      const mapped = mapInput(chain.input, data, success ? parent.output : { error: parent.error, input: parent.input });
      const child = this.newRecord(target.compiled, target.version, {
        trigger: { kind: 'chain', detail: parent.functionName },
        input: mapped.ok ? mapped.value : null,
        error: mapped.ok ? null : { code: RunErrorCode.inputMapping, message: mapped.message },
        workflowId: parent.workflowId,
        instanceId: parent.instanceId,
        triggerEvent: parent.triggerEvent,
        parentId: parent.id,
        chainRootId: rootId,
        idempotencyKey: `chain:${parent.id}:${index}`,
        scheduledAt: (parent.finishedAt ?? this.options.clock.now()) + (chain.delayMs ?? 0),
      });
      if (parent.chainRootId === null) await this.options.repository.updateExecution({ ...parent, chainRootId: rootId });
      if (!(await this.options.repository.insertExecution(child))) continue;
      this.options.track(this.runWhenDue(child, target.compiled));
    }
  }

  /** Waits until `scheduledAt`, then runs (chains with a delay; executions resumed after a restart). */
  async runWhenDue(record: FunctionExecutionRecord, compiled: CompiledFunction): Promise<FunctionExecutionRecord> {
    const wait = record.scheduledAt - this.options.clock.now();
    if (wait > 0) await this.options.sleep(wait, this.options.stopping);
    if (this.options.stopping.aborted) return record;
    return this.run(record, compiled);
  }
}

/** The chained or resumed function with the version it was compiled from. */
export interface VersionedFunction {
  compiled: CompiledFunction;
  version: number;
}

/** A runner that threw (a bug of its own, not the function's): the attempt fails instead of the record staying `running`. */
function runnerBroke(error: unknown, logger: Logger, executionId: string): RunOutcome {
  logger.error('function runner failed', {
    execution: executionId,
    error: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
  return {
    status: 'failed',
    error: { code: RunErrorCode.functionError, message: 'the runner failed unexpectedly; the server log has the details' },
    stdout: '',
    stderr: '',
    durationMs: 0,
  };
}

function checkOutput(outcome: RunOutcome, compiled: CompiledFunction): RunOutcome {
  if (outcome.status !== 'completed' || compiled.outputSchema === undefined) return outcome;
  const findings = compiled.outputSchema.check(outcome.output);
  if (findings.length === 0) return outcome;
  return {
    ...outcome,
    status: 'failed',
    error: { code: RunErrorCode.outputSchema, message: `the output does not match outputSchema: ${findings.join('; ')}` },
  };
}

/** Masks secret values inside a JSON output. */
function maskJson(value: unknown, redact: Redact): unknown {
  const text = JSON.stringify(value ?? null);
  const masked = redact(text);
  if (masked === text) return value;
  try {
    return JSON.parse(masked) as unknown;
  } catch {
    return '[redacted]';
  }
}

function runtimeHint(runtime: string): string {
  if (runtime === 'container')
    return 'the container runtime needs a Docker daemon, which this server does not use yet; use runtime process';
  return 'see /ready for what is missing';
}
