import { createRequire } from 'node:module';
import type * as AjvModule from 'ajv';
import type { Ajv, ValidateFunction } from 'ajv';
import { compileRule, isRuleRef } from '../rules/index.js';
import type { CompiledRule, RuleIssue, RuleRegistry } from '../rules/index.js';
import type { GuardSource, PlaceDefinition, TransitionDefinition, WorkflowDefinition } from './workflow-definition.js';

/** What a guard may read (docs/workflows.md, "Guards"). */
export const guardVariables = ['token', 'tokens', 'data', 'metadata', 'variables', 'input'] as const;
/** What an event trigger's filter may read: the guard's names plus `event`. */
export const filterVariables = [...guardVariables, 'event'] as const;

/** A guard ready to evaluate: compiled source, or a reference resolved through the rule registry at evaluation. */
export type CompiledGuard =
  | { kind: 'rule'; rule: CompiledRule }
  | { kind: 'ref'; ref: string; registry: RuleRegistry | undefined }
  /** A guard that did not compile: it never passes (such a definition is refused at publish anyway). */
  | { kind: 'invalid'; message: string };

export interface CompiledTransition {
  definition: TransitionDefinition;
  index: number;
  guard: CompiledGuard | undefined;
  filter: CompiledGuard | undefined;
}

/** A problem found while compiling guards, filters or place schemas (reported by the analysis). */
export interface CompileProblem {
  path: string;
  message: string;
}

/**
 * A definition prepared for the engine: places and transitions indexed, guards and event filters
 * compiled once, place schemas compiled to validators. Built at publish and cached per version.
 */
export class CompiledWorkflow {
  readonly places = new Map<string, PlaceDefinition>();
  readonly transitions = new Map<string, CompiledTransition>();
  readonly ordered: CompiledTransition[] = [];
  readonly problems: CompileProblem[] = [];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(
    readonly definition: WorkflowDefinition,
    readonly registry?: RuleRegistry,
  ) {
    // Ajv is loaded for the first definition with a place schema, not at start (ADR 0014).
    let ajv: Ajv | undefined;
    definition.places.forEach((place, index) => {
      if (!this.places.has(place.id)) this.places.set(place.id, place);
      if (place.schema === undefined) return;
      try {
        ajv ??= new (createRequire(import.meta.url)('ajv') as typeof AjvModule).Ajv({ allErrors: true, strict: false });
        this.validators.set(place.id, ajv.compile(place.schema));
      } catch (error) {
        this.problems.push({ path: `places[${index}].schema`, message: `not a valid JSON schema: ${(error as Error).message}` });
      }
    });
    definition.transitions.forEach((transition, index) => {
      const compiled: CompiledTransition = {
        definition: transition,
        index,
        guard: this.compileGuard(transition.guard, guardVariables, `transitions[${index}].guard`),
        filter:
          typeof transition.trigger === 'object' && 'event' in transition.trigger
            ? this.compileGuard(transition.trigger.event.filter, filterVariables, `transitions[${index}].trigger.event.filter`)
            : undefined,
      };
      if (!this.transitions.has(transition.id)) this.transitions.set(transition.id, compiled);
      this.ordered.push(compiled);
    });
  }

  get id(): string | undefined {
    return this.definition.id;
  }

  /** Validation messages for `data` resting in `place`; empty when it fits (or the place has no schema). */
  validatePlaceData(place: string, data: unknown): string[] {
    const validate = this.validators.get(place);
    if (!validate || validate(data)) return [];
    return (validate.errors ?? []).map((error) => `${error.instancePath || '(root)'} ${error.message ?? 'is invalid'}`);
  }

  isEnd(place: string): boolean {
    return this.definition.end.includes(place);
  }

  private compileGuard(source: GuardSource | undefined, variables: readonly string[], path: string): CompiledGuard | undefined {
    if (source === undefined) return undefined;
    if (isRuleRef(source)) {
      const version = (source as { version?: unknown }).version;
      const ref = typeof version === 'number' && !source.ref.includes('@') ? `${source.ref}@${version}` : source.ref;
      // An unknown reference is a publish error, also when no registry is configured: never a silent pass.
      if (this.registry === undefined) {
        this.problems.push({ path, message: `guard refers to the stored rule '${ref}', but no rule store is configured here` });
      } else if (this.registry.get(ref) === undefined) {
        this.problems.push({ path, message: `${this.registry.describeMissing(ref)} (POST /api/v1/rules stores one)` });
      }
      return { kind: 'ref', ref, registry: this.registry };
    }
    const compiled = compileRule(source, { variables });
    if (!compiled.ok) {
      for (const issue of compiled.issues) this.problems.push({ path: issuePath(path, issue), message: issue.message });
      return { kind: 'invalid', message: compiled.issues.map((issue) => issue.message).join('; ') };
    }
    return { kind: 'rule', rule: compiled.rule };
  }
}

function issuePath(base: string, issue: RuleIssue): string {
  return issue.path === '' ? base : `${base}.${issue.path}`;
}
