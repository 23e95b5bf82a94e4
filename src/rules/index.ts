/**
 * The rule layer: one language for workflow guards, trigger filters and the gateway's cost rules.
 * Pure (imports only `core/` and its libraries); see docs/rules.md.
 */
export { compileRule } from './compile-rule.js';
export { LegacySyntax, isCompiledRule } from './compiled-rule.js';
export type { CompiledRule, RuleCompileOptions, RuleCompileResult, RuleData, RuleSource } from './compiled-rule.js';
export { evaluateRule, isRuleRef } from './evaluate-rule.js';
export type { EvaluateRuleOptions, RuleRef } from './evaluate-rule.js';
export { formatExplanation } from './format-explanation.js';
export { translateLegacyCondition } from './legacy-condition.js';
export type { LegacyTranslation } from './legacy-condition.js';
export { maxExpressionLength } from './cel-compile.js';
export { maxRegexLength } from './regex-guard.js';
export { maxRuleDepth } from './structured-compile.js';
export { RuleIssueCode } from './rule-issue.js';
export type { RuleIssue } from './rule-issue.js';
export { RuleRegistry, parseRuleRef } from './rule-registry.js';
export type { RegisteredRule, RuleRegistration } from './rule-registry.js';
export { RuleErrorCode } from './rule-verdict.js';
export type { ExplainedVerdict, RuleEvaluationError, RuleReference, RuleTrace, RuleVerdict } from './rule-verdict.js';
export { RuleOperator } from './structured-rule.js';
export type { JsonValue, StructuredCondition, StructuredRule } from './structured-rule.js';
