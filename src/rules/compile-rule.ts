import { compileCelRule } from './cel-compile.js';
import type { RuleCompileOptions, RuleCompileResult } from './compiled-rule.js';
import { ruleError, RuleIssueCode } from './rule-issue.js';
import { compileStructuredRule } from './structured-compile.js';

/**
 * Compiles a rule once, at publish or config-load time: a string is a CEL expression, an object the
 * structured form. Every problem (syntax, unknown operator, unknown variable or function, bad regex,
 * malformed shape) is returned as an issue saying what and where; nothing is deferred to run time.
 *
 * @example
 * const compiled = compileRule("token.data.priority > 5 && token.metadata.status == 'approved'", {
 *   variables: ['token', 'variables'],
 * });
 * if (compiled.ok) compiled.rule.evaluate({ token }).passed;
 */
export function compileRule(source: unknown, options: RuleCompileOptions): RuleCompileResult {
  const duplicate = options.variables.find((name, index) => options.variables.indexOf(name) !== index);
  if (duplicate !== undefined) {
    return { ok: false, issues: [ruleError(RuleIssueCode.malformedRule, `the variable '${duplicate}' is declared twice`)] };
  }
  if (typeof source === 'string') return compileCelRule(source, options);
  if (typeof source !== 'object' || source === null || Array.isArray(source)) {
    const given = source === null ? 'null' : Array.isArray(source) ? 'a list' : `a ${typeof source}`;
    const message = `a rule is a CEL expression (a string) or a structured rule (an object), not ${given}`;
    return { ok: false, issues: [ruleError(RuleIssueCode.malformedRule, message)] };
  }
  return compileStructuredRule(source, options);
}
