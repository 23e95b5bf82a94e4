import { invalidRequest } from '../../core/errors.js';
import { compileRule, formatExplanation } from '../../rules/index.js';
import type { RuleData } from '../../rules/index.js';

/**
 * `evaluateRule(input: {rule, data})`: compiles the rule (CEL text, `{cel: "…"}`, or a structured
 * rule) over the keys of `data` and evaluates it with an explanation. A rule that does not compile is a
 * verdict with `passed: false` and its issues, not an error: the author sees what to fix.
 */
export function evaluateRuleOperation(input: { rule: unknown; data: unknown }) {
  if (typeof input.data !== 'object' || input.data === null || Array.isArray(input.data))
    throw invalidRequest('data must be a JSON object (its keys are the variables the rule can read).', 'input.data');
  const data = input.data as RuleData;
  const source = isCel(input.rule) ? input.rule.cel : input.rule;
  const compiled = compileRule(source, { variables: Object.keys(data) });
  if (!compiled.ok) {
    return {
      passed: false,
      explanation: `The rule does not compile: ${compiled.issues.map((issue) => issue.message).join('; ')}`,
      details: { error: { code: 'invalid_rule', issues: compiled.issues } },
      issues: compiled.issues.map((issue) => ({ code: issue.code, message: issue.message, path: issue.path || null })),
    };
  }
  const verdict = compiled.rule.explain(data);
  return {
    passed: verdict.passed,
    explanation: formatExplanation(verdict.explanation),
    details: { passed: verdict.passed, value: verdict.value ?? null, error: verdict.error ?? null, trace: verdict.explanation },
    issues: [],
  };
}

function isCel(rule: unknown): rule is { cel: string } {
  return typeof rule === 'object' && rule !== null && typeof (rule as { cel?: unknown }).cel === 'string';
}
