import type { RuleIssue } from './rule-issue.js';
import type { ExplainedVerdict, RuleVerdict } from './rule-verdict.js';
import type { StructuredRule } from './structured-rule.js';

/** The values a rule can read: one entry per declared top-level variable (`token`, `model`, ...). */
export type RuleData = Readonly<Record<string, unknown>>;

/** A rule as written: a CEL expression, or the structured JSON form. */
export type RuleSource = string | StructuredRule;

/** How the seed's SQL-like conditions are treated (docs/rules.md, "Legacy cost-rule conditions"). */
export const LegacySyntax = {
  /** Only CEL; a text that reads as the legacy SQL-like form fails with the CEL spelling suggested. */
  reject: 'reject',
  /** Legacy text that is not valid CEL is translated to CEL, with a `legacy_syntax` warning. */
  translate: 'translate',
} as const;
export type LegacySyntax = (typeof LegacySyntax)[keyof typeof LegacySyntax];

/** What a rule may refer to, and how to read legacy text. */
export interface RuleCompileOptions {
  /**
   * The declared top-level names. A CEL identifier or the first segment of a structured `field` that is
   * not one of them fails compilation (`unknown_variable`). Guards declare `['token', 'variables']`;
   * cost rules `['token_count', 'model', 'environment', 'cost_today', 'user', 'tags', ...]`.
   */
  variables: readonly string[];
  /** How to read the seed's SQL-like conditions (`"token_count < 500 AND model = 'gpt-4'"`). Default `reject`. */
  legacySyntax?: LegacySyntax;
}

/**
 * A rule checked and prepared once, to be evaluated many times. `evaluate` is the hot path (no
 * explanation, no allocation for a plain pass/fail); `explain` also says which sub-condition decided.
 * Neither throws.
 */
export interface CompiledRule {
  readonly kind: 'cel' | 'structured';
  /** The rule as it was given. */
  readonly source: RuleSource;
  /** For CEL rules, the expression that was compiled (after any legacy translation). */
  readonly expression: string | undefined;
  readonly variables: readonly string[];
  /** Non-fatal findings (`legacy_syntax`). */
  readonly warnings: readonly RuleIssue[];
  evaluate(data: RuleData): RuleVerdict;
  explain(data: RuleData): ExplainedVerdict;
}

/** A compiled rule, or every issue that stops it from compiling. */
export type RuleCompileResult = { ok: true; rule: CompiledRule } | { ok: false; issues: RuleIssue[] };

/** True for a compiled rule (as opposed to rule source or a reference). */
export function isCompiledRule(value: unknown): value is CompiledRule {
  return typeof value === 'object' && value !== null && typeof (value as { evaluate?: unknown }).evaluate === 'function';
}
