import type { UsageConfig } from '../config/gateway-config.js';
import type { CostRuleEngine } from './cost-rule-types.js';

/**
 * The configured cost rules compiled (see `compileCostRules`), loading the rule compiler (CEL and RE2:
 * ~15 MB of resident memory and part of the start-up time) only when there are rules; with none the
 * engine is undefined and admission skips rule evaluation.
 */
export async function loadCostRules(
  rules: UsageConfig['costRules'],
): Promise<{ engine: CostRuleEngine | undefined; warnings: string[] } | { issues: string[] }> {
  if (rules.length === 0) return { engine: undefined, warnings: [] };
  const { compileCostRules } = await import('./cost-rules.js');
  return compileCostRules(rules);
}
