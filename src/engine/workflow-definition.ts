import { z } from 'zod';
import { parseDuration } from './duration.js';

/**
 * A workflow definition as written in YAML/JSON files or sent to the API: a Petri net of places and
 * transitions with weighted arcs, guards (rules), triggers and actions (docs/workflows.md). The zod
 * schema checks the shape only; names that must resolve (places, rules, agents) are checked by the
 * structural analysis (`analysis.ts`), which reports every problem at once.
 */

/** Ids of places, transitions and workflows: letters, digits, `_` and `-`, usable in event-bus topics. */
export const idPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const idSchema = z.string().regex(idPattern, 'use letters, digits, _ and - (up to 128 characters, starting with a letter or digit)');

const durationSchema = z
  .union([z.string(), z.number()])
  .refine((value) => parseDuration(value) !== undefined, { message: "a duration is milliseconds or text like '30s', '5m', '1h30m'" });

/** A place: where tokens rest. `schema` is a JSON schema for the data of tokens resting there. */
export const placeSchema = z.strictObject({
  id: idSchema,
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  schema: z.record(z.string(), z.unknown()).optional(),
  /** The most tokens the place may hold; a transition whose firing would exceed it is not enabled. */
  capacity: z.number().int().positive().optional(),
});

/** An arc between a place and a transition; `weight` tokens are consumed (input) or produced (output). */
export const arcSchema = z.strictObject({
  place: idSchema,
  weight: z.number().int().positive().default(1),
});

/** An arc may be written as just the place id (`inputs: [draft]`). */
const arcInput = z.union([idSchema.transform((place) => ({ place, weight: 1 })), arcSchema]);

/**
 * A guard: a CEL expression (string), a structured rule (object), or a reference to a named rule
 * (`{ ref: 'review-ok' }`, `{ ref: 'review-ok', version: 2 }` or `{ ref: 'review-ok@2' }`). It reads `token` (the first input token), `tokens` (all input tokens by
 * place id), `variables` (the instance's) and `input` (the data sent with a manual firing).
 */
export const guardSchema = z.union([
  z.string().min(1),
  /** A stored rule: `{ ref: 'review-ok' }` (latest version), `{ ref: 'review-ok', version: 2 }` or `{ ref: 'review-ok@2' }`. */
  z.strictObject({ ref: z.string().min(1), version: z.number().int().positive().optional() }),
  z.record(z.string(), z.unknown()),
]);

export const triggerSchema = z.union([
  z.literal('manual'),
  z.literal('automatic'),
  z.strictObject({ timer: z.strictObject({ after: durationSchema }) }),
  z.strictObject({ event: z.strictObject({ type: z.string().min(1), filter: guardSchema.optional() }) }),
]);

/** What a firing runs: nothing, an agent (by name or inline definition), or a function (by name or inline). */
export const actionSchema = z.union([
  z.literal('none'),
  z.strictObject({ agent: z.union([z.string().min(1), z.record(z.string(), z.unknown())]) }),
  z.strictObject({ function: z.union([z.string().min(1), z.record(z.string(), z.unknown())]) }),
]);

export const transitionSchema = z.strictObject({
  id: idSchema,
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  inputs: z.array(arcInput).default([]),
  outputs: z.array(arcInput).default([]),
  guard: guardSchema.optional(),
  /** Default `automatic`: fires as soon as it is enabled and its guard passes. */
  trigger: triggerSchema.default('automatic'),
  action: actionSchema.default('none'),
});

const placeList = z.union([idSchema.transform((id) => [id]), z.array(idSchema).min(1)]);

export const workflowDefinitionSchema = z.strictObject({
  /** Stable id (the server assigns one when absent). */
  id: idSchema.optional(),
  name: z.string().min(1),
  description: z.string().optional(),
  places: z.array(placeSchema).min(1),
  transitions: z.array(transitionSchema).default([]),
  /** The place(s) that receive a token when an instance starts. */
  start: placeList,
  /** Final place(s): an instance is completed when a token reaches one and nothing else is pending. */
  end: placeList,
  /** Default instance variables (merged under the ones given at start). */
  variables: z.record(z.string(), z.unknown()).default({}),
  metadata: z.record(z.string(), z.unknown()).default({}),
});

export type WorkflowDefinitionInput = z.input<typeof workflowDefinitionSchema>;
export type WorkflowDefinition = z.output<typeof workflowDefinitionSchema>;
export type PlaceDefinition = z.output<typeof placeSchema>;
export type TransitionDefinition = z.output<typeof transitionSchema>;
export type Arc = z.output<typeof arcSchema>;
export type GuardSource = z.output<typeof guardSchema>;
export type Trigger = z.output<typeof triggerSchema>;
export type ActionSpec = z.output<typeof actionSchema>;
export type TriggerKind = 'manual' | 'automatic' | 'timer' | 'event';
export type ActionKind = 'none' | 'agent' | 'function';

/** One shape problem: where (`transitions[2].inputs[0]`) and what. */
export interface DefinitionIssue {
  path: string;
  message: string;
}

/** The parsed definition with defaults applied, or every shape issue. */
export type DefinitionParseResult = { ok: true; definition: WorkflowDefinition } | { ok: false; issues: DefinitionIssue[] };

/** Checks the shape of a definition (from a file, YAML already parsed, or a request body). Never throws. */
export function parseDefinition(input: unknown): DefinitionParseResult {
  const parsed = workflowDefinitionSchema.safeParse(input);
  if (parsed.success) return { ok: true, definition: parsed.data };
  return {
    ok: false,
    issues: parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
  };
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, key) => (typeof key === 'number' ? `${text}[${key}]` : text === '' ? String(key) : `${text}.${String(key)}`),
    '',
  );
}

/** The trigger's kind. */
export function triggerKind(trigger: Trigger): TriggerKind {
  if (trigger === 'manual' || trigger === 'automatic') return trigger;
  return 'timer' in trigger ? 'timer' : 'event';
}

/** The action's kind. */
export function actionKind(action: ActionSpec): ActionKind {
  if (action === 'none') return 'none';
  return 'agent' in action ? 'agent' : 'function';
}

/** A timer trigger's delay in milliseconds, undefined for other triggers. */
export function timerDelayMs(trigger: Trigger): number | undefined {
  if (typeof trigger === 'string' || !('timer' in trigger)) return undefined;
  return parseDuration(trigger.timer.after);
}
