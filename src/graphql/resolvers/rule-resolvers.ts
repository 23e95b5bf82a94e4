import { invalidRequest } from '../../core/errors.js';
import { compileRule, formatExplanation, isRuleRef } from '../../rules/index.js';
import type { RuleData, RuleRegistry } from '../../rules/index.js';
import type { GraphQLContext } from '../graphql-context.js';
import { requireAdmin } from '../graphql-context.js';
import { paginate } from '../pagination.js';
import { orNull } from './workflow-resolvers.js';

/**
 * `evaluateRule(input: {rule, data})`: compiles the rule (CEL text, `{cel: "…"}`, or a structured
 * rule) over the keys of `data` and evaluates it with an explanation. A rule that does not compile is a
 * verdict with `passed: false` and its issues, not an error: the author sees what to fix. A stored rule
 * is evaluated with `rule: {ref: 'name'}` or `{ref: 'name@2'}` through `registry`.
 */
export function evaluateRuleOperation(input: { rule?: unknown; ruleId?: string | null; data: unknown }, registry?: RuleRegistry) {
  if (typeof input.data !== 'object' || input.data === null || Array.isArray(input.data))
    throw invalidRequest('data must be a JSON object (its keys are the variables the rule can read).', 'input.data');
  const hasRule = input.rule !== undefined && input.rule !== null;
  const hasId = typeof input.ruleId === 'string' && input.ruleId.length > 0;
  if (hasRule === hasId)
    throw invalidRequest('Give exactly one of rule (inline) and ruleId (a stored rule, `name` or `name@version`).', 'input');
  if (hasId) input = { ...input, rule: { ref: input.ruleId } };
  const data = input.data as RuleData;
  if (isRuleRef(input.rule) && registry !== undefined) {
    const verdict = registry.evaluate(input.rule.ref, data, { explain: true });
    return {
      passed: verdict.passed,
      explanation: verdict.explanation
        ? formatExplanation(verdict.explanation)
        : `! ${verdict.error?.code ?? 'error'}: ${verdict.error?.message ?? ''}`,
      details: { passed: verdict.passed, value: verdict.value ?? null, error: verdict.error ?? null, trace: verdict.explanation ?? null },
      issues: [],
    };
  }
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

type Page = { first?: number | null; after?: string | null };

/** Stored, versioned rules over `container.rules` (docs/rules.md); any key may read. */
export const ruleQueries = {
  rules: async (_root: unknown, args: Page, context: GraphQLContext) => paginate(await context.container.rules.list(), args),
  rule: async (_root: unknown, args: { name: string }, context: GraphQLContext) => orNull(() => context.container.rules.get(args.name)),
};

/** Storing a rule version needs the admin key, as `POST /api/v1/rules` does. */
export const ruleMutations = {
  createRule: async (
    _root: unknown,
    args: { input: { name: string; rule: unknown; description?: string | null } },
    context: GraphQLContext,
  ) => {
    requireAdmin(context, 'createRule');
    const { name, rule, description } = args.input;
    return context.container.rules.create({ name, rule, ...(description ? { description } : {}) });
  },
};
