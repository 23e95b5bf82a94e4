import type { CostAction, UsageConfig } from '../config/gateway-config.js';
import { compileRule, LegacySyntax } from '../rules/index.js';
import type { CompiledRule } from '../rules/index.js';
import type { CostFacts, CostRuleEngine, CostRuleOutcome } from './cost-rule-types.js';

/** The names a cost-rule condition may use (the keys of `CostFacts`). */
export const costRuleVariables: readonly (keyof CostFacts)[] = [
  'token_count',
  'request_size',
  'model',
  'max_tokens',
  'stream',
  'environment',
  'cost_today',
  'key_cost_today',
  'model_cost_today',
  'user',
  'team',
  'project',
  'key',
  'tags',
  'task_type',
  'complexity',
  'metadata',
];

interface CompiledCostRule {
  name: string;
  rule: CompiledRule;
  action: CostAction;
}

/**
 * Compiles the config file's cost rules with the shared rule layer (`src/rules`): CEL conditions, the
 * seed's SQL-like spelling translated (a warning says so). Every problem is returned, each naming its
 * rule, so a bad rule stops start-up (and `config check`) instead of silently never matching.
 */
export function compileCostRules(rules: UsageConfig['costRules']): { engine: CostRuleEngine; warnings: string[] } | { issues: string[] } {
  const compiled: CompiledCostRule[] = [];
  const issues: string[] = [];
  const warnings: string[] = [];
  rules.forEach((entry, index) => {
    const result = compileRule(entry.condition, { variables: costRuleVariables, legacySyntax: LegacySyntax.translate });
    if (!result.ok) {
      for (const issue of result.issues)
        if (issue.severity === 'error') issues.push(`cost_rules.${index} ('${entry.name}'): ${issue.message}`);
      return;
    }
    for (const warning of result.rule.warnings) warnings.push(`cost_rules.${index} ('${entry.name}'): ${warning.message}`);
    compiled.push({ name: entry.name, rule: result.rule, action: entry.action });
  });
  if (issues.length > 0) return { issues };
  return { engine: new CostRules(compiled), warnings };
}

/**
 * Cost rules evaluated in order on every request. Each matching rule adds its action: the first
 * `route_to_model` and the first `batch_with_delay` win; `prefer_provider` and `apply_rate_limit`
 * accumulate. A condition that cannot be evaluated (a type mismatch) does not match and is reported.
 */
class CostRules implements CostRuleEngine {
  constructor(private readonly rules: readonly CompiledCostRule[]) {}

  get size(): number {
    return this.rules.length;
  }

  evaluate(facts: CostFacts): CostRuleOutcome {
    const outcome: CostRuleOutcome = { matched: [], preferProviders: [], rateLimits: [], errors: [] };
    for (const { name, rule, action } of this.rules) {
      const verdict = rule.evaluate(facts as unknown as Record<string, unknown>);
      if (verdict.error) {
        outcome.errors.push(`'${name}' could not be evaluated: ${verdict.error.message}`);
        continue;
      }
      if (!verdict.passed) continue;
      outcome.matched.push(name);
      switch (action.type) {
        case 'route_to_model':
          outcome.model ??= action.model;
          break;
        case 'prefer_provider':
          if (!outcome.preferProviders.includes(action.provider)) outcome.preferProviders.push(action.provider);
          break;
        case 'apply_rate_limit':
          outcome.rateLimits.push({
            scope: `rule:${name}`,
            label: `cost rule '${name}'`,
            limits: { ...(action.rpm ? { rpm: action.rpm } : {}), ...(action.tpm ? { tpm: action.tpm } : {}) },
          });
          break;
        case 'batch_with_delay':
          outcome.batch ??= { rule: name, delayMs: action.delayMs, maxBatchSize: action.maxBatchSize };
          break;
      }
    }
    return outcome;
  }
}
