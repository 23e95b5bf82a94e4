import type { Clock } from '../core/clock.js';
import { ErrorCode, GatewayError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { noRedaction } from '../core/redact.js';
import type { Redact } from '../core/redact.js';
import type { ActionSpec } from '../engine/workflow-definition.js';
import { compileFunction } from '../functions/compile-function.js';
import { eventView, readEvent, triggerMatches } from '../functions/function-event.js';
import type { FunctionRunner, RunnerReadiness } from '../functions/function-runner.js';
import { RunErrorCode } from '../functions/function-runner.js';
import { mapInput } from '../functions/input-mapping.js';
import { JsonSchemaValidator } from '../functions/json-schema-validator.js';
import type {
  ExecutionQuery,
  ExecutionTrigger,
  FunctionExecutionRecord,
  FunctionRepository,
  StoredFunction,
} from '../storage/function-repository.js';
import type { BusMessage, BusSubscription, EventBus } from '../streaming/event-bus.js';
import { checkFunctionAction } from './function-action-check.js';
import { FunctionExecutor, realSleep } from './function-executor.js';
import type { SecretResolver, Sleep, VersionedFunction } from './function-executor.js';

export interface FunctionServiceOptions {
  repository: FunctionRepository;
  runners: readonly FunctionRunner[];
  events: EventBus;
  clock: Clock;
  logger: Logger;
  secrets: SecretResolver;
  redact?: Redact;
  sleep?: Sleep;
  random?: () => number;
}

/** How an invocation is attributed and keyed. */
export interface InvokeOptions {
  trigger?: ExecutionTrigger;
  triggerEvent?: unknown;
  workflowId?: string;
  instanceId?: string;
  /** One execution per key: a second invoke with it answers the first one's record (re-running it only if it did not complete). */
  idempotencyKey?: string;
  signal?: AbortSignal;
  /** false: answer the pending record at once and run in the background. Default true. */
  wait?: boolean;
}

/** Bus patterns the service listens to for triggers. */
export const triggerPatterns = ['workflow.>', 'functions.>', 'custom.>'] as const;

/**
 * Functions as a use case for every front door: register and version definitions, invoke them (with
 * retries and backoff), run them on engine events (triggers with filter rules and input mappings) and
 * after each other (chains with delays), with every execution recorded (docs/functions.md).
 */
export class FunctionService {
  private readonly definitions = new Map<string, VersionedFunction>();
  /** Names of the registered functions, for the synchronous publish-time check (`checkAction`); loaded by `start()`. */
  private readonly known = new Set<string>();
  private readonly validator = new JsonSchemaValidator();
  private readonly executor: FunctionExecutor;
  private readonly runners: Map<string, FunctionRunner>;
  private readonly inFlight = new Set<Promise<unknown>>();
  private subscriptions: BusSubscription[] = [];
  private readonly stopping = new AbortController();
  /** Settles once `start()`'s probe of every runtime has logged its warning, if any. */
  runtimesChecked: Promise<void> = Promise.resolve();

  constructor(private readonly options: FunctionServiceOptions) {
    this.runners = new Map(options.runners.map((runner) => [runner.runtime, runner]));
    this.executor = new FunctionExecutor({
      repository: options.repository,
      runners: this.runners,
      events: options.events,
      clock: options.clock,
      logger: options.logger,
      secrets: options.secrets,
      redact: options.redact ?? noRedaction,
      sleep: options.sleep ?? realSleep,
      random: options.random ?? Math.random,
      resolve: (name) => this.lookup(name),
      track: (work) => this.track(work),
      stopping: this.stopping.signal,
    });
  }

  /** Loads the definitions, subscribes to engine events, resumes executions left pending and starts probing the runtimes. */
  async start(): Promise<void> {
    for (const stored of await this.options.repository.listDefinitions()) {
      this.known.add(stored.name);
      const compiled = compileFunction(stored.definition, this.validator);
      if (compiled.ok) this.definitions.set(stored.name, { compiled: compiled.compiled, version: stored.version });
      else
        this.options.logger.warn('stored function no longer compiles; it will not run', { function: stored.name, issues: compiled.issues });
    }
    this.subscriptions = triggerPatterns.map((pattern) => this.options.events.subscribe(pattern, (message) => this.onEvent(message)));
    for (const record of await this.options.repository.listDue(Number.MAX_SAFE_INTEGER, 500)) {
      const target = this.definitions.get(record.functionName);
      if (target) this.track(this.executor.runWhenDue(record, target.compiled));
    }
    // The runtimes are probed (bubblewrap runs a sandbox) while the rest of the server starts; `serve`
    // waits for `runtimesChecked` before it listens, so the warnings still come before "listening".
    this.runtimesChecked = Promise.all(
      [...this.runners.values()].map(async (runner) => {
        const state = await runner.readiness();
        if (!state.ready) this.options.logger.warn(`functions: runtime '${runner.runtime}' is not usable`, { reason: state.reason });
      }),
    ).then(() => undefined);
  }

  /**
   * Stops listening, ends waits (delayed chains and backoffs stay recorded for the next start) and waits
   * for running attempts (bounded by their time limits).
   */
  async stop(): Promise<void> {
    this.stopping.abort();
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions = [];
    await this.idle();
  }

  /** Resolves when no execution started by this service is still running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  async readiness(): Promise<Record<string, RunnerReadiness>> {
    const states: Record<string, RunnerReadiness> = {};
    for (const [runtime, runner] of this.runners) states[runtime] = await runner.readiness();
    if (!this.runners.has('container')) states['container'] = { ready: false, reason: 'no Docker runner is configured (optional)' };
    return states;
  }

  /**
   * The publish-time check of a function action (the workflow catalog's `registerActionCheck('function', …)`):
   * the named function must be registered; inline specs are refused. Functions registered through another
   * replica are known here after its next start.
   */
  checkAction(action: Exclude<ActionSpec, 'none'>): string[] {
    return checkFunctionAction(action, this.known);
  }

  /** Registers a new function; 409 when the name is taken, 400 with every issue when it does not compile. */
  async create(input: unknown): Promise<StoredFunction> {
    const compiled = this.compile(input);
    if (await this.options.repository.getDefinition(compiled.definition.name))
      throw new GatewayError(
        ErrorCode.invalidRequest,
        `A function named '${compiled.definition.name}' exists; update it with PUT /api/v1/functions/${compiled.definition.name}.`,
        { status: 409 },
      );
    return this.save(compiled, 1);
  }

  /** Replaces a definition (its version goes up by one); executions keep the version they ran. */
  async update(name: string, input: unknown): Promise<StoredFunction> {
    const existing = await this.getStored(name);
    const body = typeof input === 'object' && input !== null && !Array.isArray(input) ? { name, ...input } : input;
    const compiled = this.compile(body);
    if (compiled.definition.name !== name)
      throw new GatewayError(
        ErrorCode.invalidRequest,
        `The body names '${compiled.definition.name}' but the path '${name}'; a function cannot be renamed.`,
        { status: 400, param: 'name' },
      );
    return this.save(compiled, existing.version + 1, existing.createdAt);
  }

  async delete(name: string): Promise<void> {
    if (!(await this.options.repository.deleteDefinition(name))) throw notFound(name);
    this.definitions.delete(name);
    this.known.delete(name);
  }

  async get(name: string): Promise<StoredFunction> {
    return this.getStored(name);
  }

  list(): Promise<StoredFunction[]> {
    return this.options.repository.listDefinitions();
  }

  async executions(name: string, query: Omit<ExecutionQuery, 'functionName'> = {}): Promise<FunctionExecutionRecord[]> {
    await this.getStored(name);
    return this.options.repository.listExecutions({ ...query, functionName: name });
  }

  async execution(id: string): Promise<FunctionExecutionRecord> {
    const record = await this.options.repository.getExecution(id);
    if (!record) throw new GatewayError(ErrorCode.notFound, `There is no function execution '${id}'.`, { status: 404 });
    return record;
  }

  /** Runs a function once with `input` (after its retries); the record says how it ended. */
  async invoke(name: string, input: unknown, options: InvokeOptions = {}): Promise<FunctionExecutionRecord> {
    const target = (await this.lookup(name)) ?? ((await this.options.repository.getDefinition(name)) ? undefined : null);
    if (target === null) throw notFound(name);
    if (target === undefined)
      throw new GatewayError(
        ErrorCode.invalidRequest,
        `The stored function '${name}' no longer compiles; update it (PUT /api/v1/functions/${name}).`,
        { status: 409 },
      );
    let record = this.executor.newRecord(target.compiled, target.version, {
      input: input ?? null,
      trigger: options.trigger ?? { kind: 'manual' },
      triggerEvent: options.triggerEvent ?? null,
      workflowId: options.workflowId ?? null,
      instanceId: options.instanceId ?? null,
      idempotencyKey: options.idempotencyKey ?? null,
    });
    if (!(await this.options.repository.insertExecution(record))) {
      const existing = await this.options.repository.findByKey(record.idempotencyKey ?? '');
      if (!existing) throw new Error(`execution key ${record.idempotencyKey ?? ''} is taken but cannot be read`);
      if (existing.status === 'completed') return existing;
      record = { ...existing, input: input ?? null, attempt: 0, maxAttempts: record.maxAttempts, error: null, output: null };
    }
    const running = this.executor.run(record, target.compiled, options.signal);
    this.track(running);
    if (options.wait === false) return record;
    return running;
  }

  /** A custom event for `custom` triggers, as if published on `custom.<name>`. */
  async emit(name: string, data: unknown): Promise<void> {
    await this.options.events.publish(`custom.${name.replace(/[\s.*>]/g, '_')}`, { type: name, data });
  }

  private compile(input: unknown) {
    const result = compileFunction(input, this.validator);
    if (!result.ok)
      throw new GatewayError(ErrorCode.invalidRequest, `The function definition is invalid:\n- ${result.issues.join('\n- ')}`, {
        status: 400,
      });
    return result.compiled;
  }

  private async save(compiled: VersionedFunction['compiled'], version: number, createdAt?: number): Promise<StoredFunction> {
    const now = this.options.clock.now();
    const stored: StoredFunction = {
      name: compiled.definition.name,
      version,
      definition: compiled.definition as unknown as Record<string, unknown>,
      createdAt: createdAt ?? now,
      updatedAt: now,
    };
    await this.options.repository.saveDefinition(stored);
    this.definitions.set(stored.name, { compiled, version });
    this.known.add(stored.name);
    return stored;
  }

  private async getStored(name: string): Promise<StoredFunction> {
    const stored = await this.options.repository.getDefinition(name);
    if (!stored) throw notFound(name);
    return stored;
  }

  /** The compiled definition: from this process's cache, else from the store (another replica registered it). */
  private async lookup(name: string): Promise<VersionedFunction | undefined> {
    const stored = await this.options.repository.getDefinition(name);
    if (!stored) {
      this.definitions.delete(name);
      return undefined;
    }
    const cached = this.definitions.get(name);
    if (cached && cached.version === stored.version) return cached;
    const compiled = compileFunction(stored.definition, this.validator);
    if (!compiled.ok) return undefined;
    const entry = { compiled: compiled.compiled, version: stored.version };
    this.definitions.set(name, entry);
    return entry;
  }

  private track(work: Promise<unknown>): void {
    const tracked = work.catch((error: unknown) =>
      this.options.logger.error('function execution failed unexpectedly', { error: String(error) }),
    );
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }

  /** Starts every enabled function whose trigger matches the event and whose filter passes. */
  private onEvent(message: BusMessage): void {
    const event = readEvent(message.topic, message.payload, message.publishedAt);
    if (event === undefined) return;
    // FUNCTION_* events are also echoed on instance topics; triggers read them once, from functions.<name>.
    if (message.topic.startsWith('workflow.') && event.type.startsWith('FUNCTION_')) return;
    const view = eventView(event);
    for (const [name, { compiled, version }] of this.definitions) {
      if (!compiled.definition.enabled) continue;
      for (const [index, { trigger, filter }] of compiled.triggers.entries()) {
        if (!triggerMatches(trigger, event)) continue;
        if (filter !== undefined) {
          const verdict = filter.evaluate({ event: view });
          if (!verdict.passed) {
            if (verdict.error)
              this.options.logger.debug('trigger filter could not decide', {
                function: name,
                trigger: index,
                error: verdict.error.message,
              });
            continue;
          }
        }
        const mapped = mapInput(trigger.input, { event: view }, view);
        const record = this.executor.newRecord(compiled, version, {
          input: mapped.ok ? mapped.value : null,
          error: mapped.ok ? null : { code: RunErrorCode.inputMapping, message: mapped.message },
          trigger: { kind: 'event', detail: event.type },
          triggerEvent: view,
          workflowId: event.workflowId ?? null,
          instanceId: event.instanceId ?? null,
          idempotencyKey: event.id === undefined ? null : `event:${name}:${index}:${event.id}`,
        });
        this.track(
          this.options.repository.insertExecution(record).then((inserted) => (inserted ? this.executor.run(record, compiled) : undefined)),
        );
      }
    }
  }
}

function notFound(name: string): GatewayError {
  return new GatewayError(ErrorCode.notFound, `There is no function '${name}'; GET /api/v1/functions lists them.`, { status: 404 });
}

/** Secrets from the environment: the secret `github-token` is `CB_SECRET_GITHUB_TOKEN`. */
export function environmentSecrets(environment: NodeJS.ProcessEnv): SecretResolver {
  return {
    resolve: (name) => Promise.resolve(environment[`CB_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`]),
  };
}
