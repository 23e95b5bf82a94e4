import type { CelEnv } from '@bufbuild/cel';
import { readPath, startOf, walkCel } from './cel-ast.js';
import type { CelExpr, ParsedCel } from './cel-ast.js';
import { celVerdict, runProgram } from './cel-outcome.js';
import type { CelProgram } from './cel-outcome.js';
import { clauseSpan } from './clause-span.js';
import type { RuleData } from './compiled-rule.js';
import { lookupPath } from './field-path.js';
import { combine, traceOutcome } from './rule-verdict.js';
import type { RuleTrace } from './rule-verdict.js';
import { celLibrary } from './cel-library.js';

/** Explains one evaluation of a CEL rule. */
export type CelExplainer = (data: RuleData) => RuleTrace;

type Clause =
  | { type: 'and' | 'or'; clauses: Clause[] }
  | { type: 'not'; clause: Clause }
  | { type: 'leaf'; source: string; program: CelProgram; references: string[][] };

/**
 * Splits an expression along its `&&`, `||` and `!` (at the top and inside them, so
 * `a && (b || !c)` gives and[a, or[b, not[c]]]) and plans each remaining clause on its own. An
 * explanation evaluates every clause, reports its verdict with the values of the paths it read, and
 * combines them with CEL's logic. The rule's own verdict still comes from the whole program.
 */
export function explainCel(parsed: ParsedCel, text: string, environment: CelEnv, variables: readonly string[]): CelExplainer {
  const root = parsed.expr === undefined ? undefined : build(parsed.expr, 0, text.length);
  return (data) =>
    root === undefined ? { type: 'expression', source: text, passed: false, value: undefined, references: [] } : trace(root, data);

  function build(expr: CelExpr, start: number, end: number): Clause {
    const kind = expr.exprKind;
    if (kind.case === 'callExpr' && (kind.value.function === '_&&_' || kind.value.function === '_||_')) {
      const operands = flatten(expr, kind.value.function);
      const starts = operands.map((operand) => Math.max(start, startOf(parsed, operand)));
      const clauses = operands.map((operand, index) => {
        const [from, to] = clauseSpan(text, starts[index] as number, starts[index + 1] ?? end);
        return build(operand, from, to);
      });
      return { type: kind.value.function === '_&&_' ? 'and' : 'or', clauses };
    }
    if (kind.case === 'callExpr' && kind.value.function === '!_' && kind.value.args.length === 1) {
      const operand = kind.value.args[0] as CelExpr;
      const [from, to] = clauseSpan(text, Math.max(start, startOf(parsed, operand)), end);
      return { type: 'not', clause: build(operand, from, to) };
    }
    return {
      type: 'leaf',
      source: text.slice(start, end).trim(),
      program: celLibrary().plan(environment, expr),
      references: referencedPaths(expr, variables),
    };
  }

  function trace(clause: Clause, data: RuleData): RuleTrace {
    if (clause.type === 'leaf') {
      const verdict = celVerdict(runProgram(clause.program, data), parsed, text, data);
      const references = clause.references.map((path) => {
        const lookup = lookupPath(data, path);
        return lookup.found ? { path: path.join('.'), found: true, value: lookup.value } : { path: path.join('.'), found: false };
      });
      const node: RuleTrace = { type: 'expression', source: clause.source, passed: verdict.passed, value: verdict.value, references };
      return verdict.error === undefined ? node : { ...node, error: verdict.error };
    }
    if (clause.type === 'not') {
      const inner = trace(clause.clause, data);
      const outcome = traceOutcome(inner);
      return typeof outcome === 'boolean'
        ? { type: 'not', passed: !outcome, clause: inner }
        : { type: 'not', passed: false, clause: inner, error: outcome };
    }
    const clauses = clause.clauses.map((child) => trace(child, data));
    const outcome = combine(clause.type, clauses.map(traceOutcome));
    return typeof outcome === 'boolean'
      ? { type: clause.type, passed: outcome, clauses }
      : { type: clause.type, passed: false, clauses, error: outcome };
  }
}

/** The operands of a chain of one operator: `a && b && c` → [a, b, c], however the parser nested it. */
function flatten(expr: CelExpr, operator: string): CelExpr[] {
  const kind = expr.exprKind;
  if (kind.case !== 'callExpr' || kind.value.function !== operator) return [expr];
  return kind.value.args.flatMap((arg) => flatten(arg, operator));
}

/** The declared-variable paths a clause reads, longest first kept (`token.data.x`, not also `token`). */
function referencedPaths(expr: CelExpr, variables: readonly string[]): string[][] {
  const found = new Map<string, string[]>();
  walkCel(expr, new Set(), (node, bound) => {
    const path = readPath(node);
    const root = path?.[0];
    if (path === undefined || root === undefined || bound.has(root) || !variables.includes(root)) return;
    found.set(path.join('\u0000'), path);
  });
  const keys = [...found.keys()];
  return keys
    .filter((key) => !keys.some((other) => other !== key && other.startsWith(`${key}\u0000`)))
    .map((key) => found.get(key) as string[]);
}
