import type { RuleData } from './compiled-rule.js';
import { atPath, ruleError, RuleIssueCode } from './rule-issue.js';
import type { RuleIssue } from './rule-issue.js';
import { combine, traceOutcome } from './rule-verdict.js';
import type { RuleEvaluationError, RuleTrace } from './rule-verdict.js';

/** A compiled structured rule node: a fast evaluation and an explaining one. */
export interface StructuredNode {
  evaluate(data: RuleData): boolean | RuleEvaluationError;
  explain(data: RuleData): RuleTrace;
}

type CompileChild = (source: unknown, path: string) => StructuredNode | undefined;

/**
 * `and` / `or` (a non-empty list of rules) and `not` (one rule). Both follow CEL's logic: a decisive
 * clause wins over an error in another clause, so `{and: [{exists x}, {x gt 5}]}` is simply false when
 * `x` is missing, while a lone `{x gt 5}` is an error.
 */
export function compileComposition(
  kind: 'and' | 'or' | 'not',
  value: unknown,
  path: string,
  compileChild: CompileChild,
  issues: RuleIssue[],
): StructuredNode | undefined {
  const here = path === '' ? kind : `${path}.${kind}`;
  if (kind === 'not') {
    const child = compileChild(value, here);
    return child === undefined ? undefined : negation(child);
  }
  if (!Array.isArray(value) || value.length === 0) {
    const message = Array.isArray(value) ? `'${kind}' needs at least one rule` : `'${kind}' takes a list of rules`;
    issues.push(ruleError(RuleIssueCode.malformedRule, atPath(here, message), here));
    return undefined;
  }
  const children = value.map((child, index) => compileChild(child, `${here}[${index}]`));
  if (children.some((child) => child === undefined)) return undefined;
  return chain(kind, children as StructuredNode[]);
}

function chain(kind: 'and' | 'or', children: readonly StructuredNode[]): StructuredNode {
  const decisive = kind === 'or';
  return {
    evaluate(data) {
      let error: RuleEvaluationError | undefined;
      for (const child of children) {
        const outcome = child.evaluate(data);
        if (outcome === decisive) return decisive;
        if (typeof outcome !== 'boolean') error ??= outcome;
      }
      return error ?? !decisive;
    },
    explain(data) {
      // Every clause is explained, even after the decisive one: the reader sees the whole picture.
      const clauses = children.map((child) => child.explain(data));
      const outcome = combine(kind, clauses.map(traceOutcome));
      return typeof outcome === 'boolean'
        ? { type: kind, passed: outcome, clauses }
        : { type: kind, passed: false, clauses, error: outcome };
    },
  };
}

function negation(child: StructuredNode): StructuredNode {
  return {
    evaluate(data) {
      const outcome = child.evaluate(data);
      return typeof outcome === 'boolean' ? !outcome : outcome;
    },
    explain(data) {
      const clause = child.explain(data);
      const outcome = traceOutcome(clause);
      return typeof outcome === 'boolean'
        ? { type: 'not', passed: !outcome, clause }
        : { type: 'not', passed: false, clause, error: outcome };
    },
  };
}
