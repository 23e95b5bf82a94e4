import { z } from 'zod';

/**
 * A function definition as written in YAML/JSON files or sent to `POST /api/v1/functions`
 * (docs/functions.md). The zod schema checks the shape; rules and JSON schemas inside are compiled by
 * `compileFunction`, which reports every problem at once.
 */

/** Function names: letters, digits, `_` and `-`, usable in URLs and event-bus topics. */
export const functionNamePattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const nameSchema = z
  .string()
  .regex(functionNamePattern, 'use letters, digits, _ and - (up to 128 characters, starting with a letter or digit)');

/** Environment variable names a function may be given (not the contract's own, which the runner sets). */
const envNamePattern = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
export const reservedEnvNames = ['INPUT_DATA', 'TRIGGER_EVENT', 'EXECUTION_ID', 'FUNCTION_ID', 'PATH', 'HOME'] as const;
const envNameSchema = z
  .string()
  .regex(envNamePattern, 'an environment variable name is letters, digits and _ (not starting with a digit)')
  .refine((name) => !(reservedEnvNames as readonly string[]).includes(name), {
    message: `INPUT_DATA, TRIGGER_EVENT, EXECUTION_ID, FUNCTION_ID, PATH and HOME are set by the runner`,
  });

/** A rule as `src/rules` takes it: CEL text or the structured JSON form. */
const ruleSchema = z.union([z.string().min(1), z.record(z.string(), z.unknown())]);

/**
 * An input mapping: destination dotted path → source dotted path. Sources are read from the trigger's
 * data (`event.…` for triggers; `output.…`, `input.…`, `execution.…` for chains). A missing source is an
 * error recorded on the execution, never an empty value.
 */
const mappingSchema = z.record(z.string().min(1), z.string().min(1));

export const Runtime = { javascript: 'javascript', process: 'process', container: 'container' } as const;
export type Runtime = (typeof Runtime)[keyof typeof Runtime];

/** Resource limits; defaults depend on the runtime (see `defaultLimits`). */
export const limitsSchema = z.strictObject({
  /** Wall-clock limit of one attempt, in milliseconds. */
  timeoutMs: z.number().int().min(10).max(3_600_000).optional(),
  /** Memory limit in MiB: the QuickJS instance's whole WebAssembly memory, or the process's address space (RLIMIT_AS). */
  memoryMb: z.number().int().min(1).max(16_384).optional(),
  /** Network access; off by default and only possible for `process` and `container`. */
  network: z.boolean().optional(),
  /** Bytes kept of stdout and of stderr each; a function that writes more fails with `output_too_large`. */
  maxOutputBytes: z
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .optional(),
});

export const retrySchema = z.strictObject({
  /** Attempts in all, including the first (1 = no retry). */
  attempts: z.number().int().min(1).max(20).default(1),
  /** Delay before the second attempt, in ms; doubled (× `multiplier`) for each further one. */
  initialDelayMs: z.number().int().min(0).max(3_600_000).default(1000),
  multiplier: z.number().min(1).max(10).default(2),
  maxDelayMs: z.number().int().min(0).max(86_400_000).default(60_000),
  /** Random share of each delay (0–1) subtracted or added, so retries of many executions spread out. */
  jitter: z.number().min(0).max(1).default(0.2),
  /** Which failures are retried; a failed output-schema check or bad input never is. */
  on: z.array(z.enum(['failed', 'timed_out'])).default(['failed', 'timed_out']),
});

export const TriggerKind = {
  tokenCreated: 'token_created',
  tokenMoved: 'token_moved',
  tokenCompleted: 'token_completed',
  workflowCreated: 'workflow_created',
  functionCompleted: 'function_completed',
  custom: 'custom',
} as const;
export type TriggerKind = (typeof TriggerKind)[keyof typeof TriggerKind];

/** Runs the function when an engine (or custom) event matches. Absent fields match anything. */
export const triggerSchema = z.strictObject({
  on: z.enum(Object.values(TriggerKind) as [TriggerKind, ...TriggerKind[]]),
  workflowId: z.string().min(1).optional(),
  /** token_created / token_completed: the place; token_moved: matches either end. */
  place: z.string().min(1).optional(),
  fromPlace: z.string().min(1).optional(),
  toPlace: z.string().min(1).optional(),
  transition: z.string().min(1).optional(),
  /** function_completed: which function, and whether it succeeded. */
  function: nameSchema.optional(),
  success: z.boolean().optional(),
  /** custom: the event's `type` (or `name`). */
  event: z.string().min(1).optional(),
  /** A rule over `event` that must pass. */
  filter: ruleSchema.optional(),
  /** Input built from `event`; absent = the whole event. */
  input: mappingSchema.optional(),
});

/** Runs another function after this one. */
export const chainSchema = z.strictObject({
  function: nameSchema,
  when: z.enum(['success', 'failure', 'always', 'rule']).default('success'),
  /** For `when: rule`: a rule over `output`, `input` and `execution` that must pass. */
  rule: ruleSchema.optional(),
  /** Wait this long after the parent finished, in ms. */
  delayMs: z.number().int().min(0).max(86_400_000).optional(),
  /** Input built from `output`, `input`, `execution`, `error`; absent = the parent's output (or `{error, input}` after a failure). */
  input: mappingSchema.optional(),
});

export const functionDefinitionSchema = z
  .strictObject({
    name: nameSchema,
    description: z.string().max(2000).optional(),
    runtime: z.enum(['javascript', 'process', 'container']),
    /** javascript: the body of `function (input, context)`; process: a script run by `command` (or `/bin/sh`). */
    code: z.string().min(1).max(1_000_000).optional(),
    /** process: the argv to run inside the sandbox (`["python3", "/function/code"]`). */
    command: z.array(z.string().min(1)).min(1).max(256).optional(),
    /** container: the image to run. */
    image: z.string().min(1).max(512).optional(),
    inputSchema: z.record(z.string(), z.unknown()).optional(),
    outputSchema: z.record(z.string(), z.unknown()).optional(),
    limits: limitsSchema.default({}),
    environment: z.record(envNameSchema, z.string().max(32_768)).default({}),
    /** Environment variable → secret name, resolved at run time through the secret port; values never stored or logged. */
    secrets: z.record(envNameSchema, z.string().min(1).max(256)).default({}),
    retry: retrySchema.optional(),
    triggers: z.array(triggerSchema).max(50).default([]),
    chains: z.array(chainSchema).max(50).default([]),
    enabled: z.boolean().default(true),
    tags: z.array(z.string().min(1).max(64)).max(50).default([]),
  })
  .superRefine((definition, context) => {
    const need = (field: 'code' | 'command' | 'image', why: string) => {
      if (definition[field] === undefined) context.addIssue({ code: 'custom', path: [field], message: why });
    };
    if (definition.runtime === 'javascript') need('code', "a javascript function needs 'code' (the body of function (input, context))");
    if (definition.runtime === 'process' && definition.code === undefined)
      need('command', "a process function needs 'command' (an argv list), 'code' (run by /bin/sh), or both");
    if (definition.runtime === 'container') need('image', "a container function needs 'image'");
    if (definition.runtime === 'javascript' && definition.limits.network === true)
      context.addIssue({ code: 'custom', path: ['limits', 'network'], message: 'javascript functions never have network access' });
    if (definition.runtime === 'javascript' && (definition.limits.memoryMb ?? Infinity) < minimumJavascriptMemoryMb)
      context.addIssue({
        code: 'custom',
        path: ['limits', 'memoryMb'],
        message: `a javascript function needs at least ${minimumJavascriptMemoryMb} MiB (the engine itself takes 16)`,
      });
    if (definition.runtime === 'javascript' && (definition.limits.timeoutMs ?? 0) > maxJavascriptTimeoutMs)
      context.addIssue({
        code: 'custom',
        path: ['limits', 'timeoutMs'],
        message: `a javascript function runs at most ${maxJavascriptTimeoutMs} ms (it holds the server's thread); use runtime 'process' for longer work`,
      });
    for (const [index, chain] of definition.chains.entries()) {
      if ((chain.when === 'rule') !== (chain.rule !== undefined))
        context.addIssue({ code: 'custom', path: ['chains', index, 'rule'], message: "give 'rule' exactly when when is 'rule'" });
    }
  });

/** A definition as written (defaults not yet applied). */
export type FunctionDefinitionInput = z.input<typeof functionDefinitionSchema>;
/** A definition with defaults applied. */
export type FunctionDefinition = z.infer<typeof functionDefinitionSchema>;
export type FunctionTrigger = z.infer<typeof triggerSchema>;
export type FunctionChain = z.infer<typeof chainSchema>;
export type RetryPolicy = z.infer<typeof retrySchema>;

/** Limits with every field set. */
export interface ResolvedLimits {
  timeoutMs: number;
  memoryMb: number;
  network: boolean;
  maxOutputBytes: number;
}

/**
 * The limits an attempt runs with. QuickJS runs on the server's own thread, so its defaults and its
 * ceiling are small (1 s, 10 s at most); a sandboxed process defaults to 30 s and 256 MiB.
 */
export function resolveLimits(definition: Pick<FunctionDefinition, 'runtime' | 'limits'>): ResolvedLimits {
  const javascript = definition.runtime === 'javascript';
  return {
    timeoutMs: definition.limits.timeoutMs ?? (javascript ? 1000 : 30_000),
    memoryMb: definition.limits.memoryMb ?? (javascript ? 64 : 256),
    network: !javascript && definition.limits.network === true,
    maxOutputBytes: definition.limits.maxOutputBytes ?? 1024 * 1024,
  };
}

/** The least memory a javascript function can be given: the engine's initial 16 MiB and some heap. */
export const minimumJavascriptMemoryMb = 20;

/** The longest a QuickJS function may run: it holds the server's event loop while it does. */
export const maxJavascriptTimeoutMs = 10_000;
