import { describe, expect, it } from 'vitest';
import { RuleRegistry } from '../../rules/index.js';
import { evaluateRuleOperation } from './rule-resolvers.js';

describe('evaluateRule (GraphQL)', () => {
  it('evaluates a stored rule by reference through the registry, and says when the reference is unknown', () => {
    const registry = new RuleRegistry();
    registry.register('score', 'data.score >= 4', { variables: ['data'] });
    const stored = evaluateRuleOperation({ rule: { ref: 'score' }, data: { data: { score: 3 } } }, registry);
    expect(stored).toMatchObject({ passed: false, issues: [] });
    expect(stored.explanation).toContain('3');
    const missing = evaluateRuleOperation({ rule: { ref: 'scor' }, data: {} }, registry);
    expect(missing.passed).toBe(false);
    expect(missing.explanation).toContain("did you mean 'score'?");
    expect(evaluateRuleOperation({ rule: 'n > 1', data: { n: 2 } }).passed).toBe(true);
  });
});
