import { compileCelRule } from './cel-compile.js';
import type { CompiledRule, RuleCompileOptions, RuleCompileResult } from './compiled-rule.js';
import { atPath, ruleError, RuleIssueCode } from './rule-issue.js';
import type { RuleIssue } from './rule-issue.js';
import { verdictOf } from './rule-verdict.js';
import { compileComposition } from './structured-composition.js';
import type { StructuredNode } from './structured-composition.js';
import { compileCondition, describeGiven, join } from './structured-condition.js';
import type { StructuredRule } from './structured-rule.js';

/** Deepest nesting of `and`/`or`/`not` accepted. */
export const maxRuleDepth = 32;

/** Compiles a structured rule (already-parsed JSON), reporting every issue at once with its path. */
export function compileStructuredRule(source: unknown, options: RuleCompileOptions): RuleCompileResult {
  const issues: RuleIssue[] = [];
  const node = compileNode(source, options, '', 0, issues);
  if (node === undefined || issues.length > 0) return { ok: false, issues };
  const rule: CompiledRule = {
    kind: 'structured',
    source: source as StructuredRule,
    expression: undefined,
    variables: options.variables,
    warnings: [],
    evaluate: (data) => verdictOf(node.evaluate(data)),
    explain: (data) => {
      const explanation = node.explain(data);
      return { ...verdictOf(explanation.error ?? explanation.passed), explanation };
    },
  };
  return { ok: true, rule };
}

/** Compiles one node; pushes issues and returns undefined when it cannot. */
export function compileNode(
  source: unknown,
  options: RuleCompileOptions,
  path: string,
  depth: number,
  issues: RuleIssue[],
): StructuredNode | undefined {
  if (depth > maxRuleDepth) {
    issues.push(ruleError(RuleIssueCode.limitExceeded, atPath(path, `rules nest deeper than ${maxRuleDepth} levels`), path));
    return undefined;
  }
  if (typeof source !== 'object' || source === null || Array.isArray(source)) {
    issues.push(
      ruleError(RuleIssueCode.malformedRule, atPath(path, `a rule must be an object (${shapes}), not ${describeGiven(source)}`), path),
    );
    return undefined;
  }
  const record = source as Record<string, unknown>;
  const kinds = ['and', 'or', 'not', 'cel'].filter((key) => key in record);
  if ('field' in record || 'op' in record) kinds.push('field');
  if (kinds.length !== 1) {
    const found = kinds.length === 0 ? `none (keys: ${Object.keys(record).join(', ') || 'none'})` : kinds.join(' and ');
    issues.push(ruleError(RuleIssueCode.malformedRule, atPath(path, `a rule is exactly one of ${shapes}; found ${found}`), path));
    return undefined;
  }
  const kind = kinds[0] as string;
  const allowed = kind === 'field' ? ['field', 'op', 'value'] : [kind];
  const unexpected = Object.keys(record).filter((key) => !allowed.includes(key));
  if (unexpected.length > 0) {
    issues.push(
      ruleError(
        RuleIssueCode.malformedRule,
        atPath(path, `unexpected key ${unexpected.map((key) => `'${key}'`).join(', ')}; allowed here: ${allowed.join(', ')}`),
        path,
      ),
    );
    return undefined;
  }
  if (kind === 'field') return compileCondition(record, options, path, issues);
  if (kind === 'cel') return compileEmbeddedCel(record.cel, options, path, issues);
  return compileComposition(
    kind as 'and' | 'or' | 'not',
    record[kind],
    path,
    (child, childPath) => compileNode(child, options, childPath, depth + 1, issues),
    issues,
  );
}

const shapes = '{field, op, value}, {and: [...]}, {or: [...]}, {not: {...}}, {cel: "..."}';

function compileEmbeddedCel(text: unknown, options: RuleCompileOptions, path: string, issues: RuleIssue[]): StructuredNode | undefined {
  const celPath = join(path, 'cel');
  if (typeof text !== 'string') {
    issues.push(
      ruleError(RuleIssueCode.malformedRule, atPath(celPath, `'cel' must be a CEL expression string, not ${describeGiven(text)}`), celPath),
    );
    return undefined;
  }
  const compiled = compileCelRule(text, options, celPath);
  if (!compiled.ok) {
    issues.push(...compiled.issues);
    return undefined;
  }
  const rule = compiled.rule;
  return {
    evaluate: (data) => {
      const verdict = rule.evaluate(data);
      return verdict.error ?? verdict.passed;
    },
    explain: (data) => rule.explain(data).explanation,
  };
}
