import type { RuleIssue } from './rule-issue.js';
import type { RuleOperator } from './structured-rule.js';

/**
 * What an evaluation says. Evaluation never throws: a missing field, a type mismatch or an unknown rule
 * reference is a verdict with `passed: false` and an `error` (STYLE habit 4). A rule passes only when
 * it evaluates to the boolean `true`.
 */

export const RuleErrorCode = {
  /** A path the rule reads is not in the data (use `exists` / `has()` to make it optional). */
  missingField: 'missing_field',
  /** An operator met a value of a type it does not take (`gt` on a list, `"a" > 1`). */
  typeMismatch: 'type_mismatch',
  /** The expression evaluated to something other than a boolean. */
  notBoolean: 'not_boolean',
  /** Any other CEL run-time error (division by zero, overflow, a bad regex built at run time). */
  evaluationError: 'evaluation_error',
  /** `evaluateRule` was given a reference the registry does not know. */
  unknownRule: 'unknown_rule',
  /** `evaluateRule` was given rule source that does not compile; `issues` says why. */
  invalidRule: 'invalid_rule',
} as const;
export type RuleErrorCode = (typeof RuleErrorCode)[keyof typeof RuleErrorCode];

/** Why an evaluation could not decide: a code, a message for the rule's author, and where. */
export interface RuleEvaluationError {
  code: RuleErrorCode;
  message: string;
  /** Where in a structured rule (`and[1]`), when the error comes from one of its conditions. */
  path?: string;
  /** 0-based offset in the CEL text of the sub-expression that failed, when known. */
  offset?: number;
  /** The compile issues, for `invalid_rule`. */
  issues?: readonly RuleIssue[];
}

/** The outcome of one evaluation. `value` is the expression's result as plain JSON-like data. */
export interface RuleVerdict {
  passed: boolean;
  value: unknown;
  error: RuleEvaluationError | undefined;
  /** Present when the evaluation was asked to explain itself. */
  explanation?: RuleTrace;
}

/** A value a rule read, as it was seen. */
export interface RuleReference {
  path: string;
  found: boolean;
  value?: unknown;
}

/** Why a rule passed or failed: one node per condition, clause or composition. */
export type RuleTrace =
  | {
      type: 'condition';
      /** Where in the structured rule (`and[1]`). */
      path: string;
      field: string;
      op: RuleOperator;
      expected?: unknown;
      found: boolean;
      actual?: unknown;
      passed: boolean;
      error?: RuleEvaluationError;
    }
  | { type: 'expression'; source: string; passed: boolean; value: unknown; references: RuleReference[]; error?: RuleEvaluationError }
  | { type: 'and' | 'or'; passed: boolean; clauses: RuleTrace[]; error?: RuleEvaluationError }
  | { type: 'not'; passed: boolean; clause: RuleTrace; error?: RuleEvaluationError };

/** A verdict with its explanation. */
export type ExplainedVerdict = RuleVerdict & { explanation: RuleTrace };

/**
 * Three-valued logic as CEL defines it for `&&` and `||`: a `false` (for and) or `true` (for or) decides
 * regardless of errors in the other clauses; otherwise the first error wins.
 */
export function combine(kind: 'and' | 'or', outcomes: readonly (boolean | RuleEvaluationError)[]): boolean | RuleEvaluationError {
  const decisive = kind === 'or';
  let error: RuleEvaluationError | undefined;
  for (const outcome of outcomes) {
    if (outcome === decisive) return decisive;
    if (typeof outcome !== 'boolean') error ??= outcome;
  }
  return error ?? !decisive;
}

/** The trace node's outcome as a boolean-or-error. */
export function traceOutcome(trace: RuleTrace): boolean | RuleEvaluationError {
  return trace.error ?? trace.passed;
}

const passedVerdict: RuleVerdict = Object.freeze({ passed: true, value: true, error: undefined });
const failedVerdict: RuleVerdict = Object.freeze({ passed: false, value: false, error: undefined });

/** A verdict for a boolean-or-error outcome; the boolean ones are shared frozen objects (hot path). */
export function verdictOf(outcome: boolean | RuleEvaluationError): RuleVerdict {
  if (outcome === true) return passedVerdict;
  if (outcome === false) return failedVerdict;
  return { passed: false, value: undefined, error: outcome };
}
