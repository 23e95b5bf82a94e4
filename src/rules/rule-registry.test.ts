import { describe, expect, it } from 'vitest';
import { compileRule } from './compile-rule.js';
import { evaluateRule } from './evaluate-rule.js';
import { parseRuleRef, RuleRegistry } from './rule-registry.js';
import { RuleErrorCode } from './rule-verdict.js';

const options = { variables: ['data'] };

function registryWithReview(): RuleRegistry {
  const registry = new RuleRegistry();
  registry.register('review-ok', { field: 'data.score', op: 'gte', value: 3 }, { ...options, description: 'first cut' });
  registry.register('review-ok', 'data.score >= 4 && data.reviewer != data.author', options);
  return registry;
}

describe('RuleRegistry', () => {
  it('creates a new version on each registration and resolves name and name@version', () => {
    const registry = registryWithReview();
    expect(registry.versions('review-ok').map((entry) => entry.ref)).toEqual(['review-ok@1', 'review-ok@2']);
    expect(registry.get('review-ok')?.version).toBe(2);
    expect(registry.get('review-ok@1')).toMatchObject({ version: 1, description: 'first cut' });
    expect(registry.get('review-ok@1')?.rule.kind).toBe('structured');
    expect(registry.get('review-ok@2')?.rule.kind).toBe('cel');
    expect(registry.get('review-ok@3')).toBeUndefined();
    expect(registry.names()).toEqual(['review-ok']);
  });

  it('keeps an old version meaning what it meant', () => {
    const registry = registryWithReview();
    const data = { data: { score: 3, reviewer: 'ada', author: 'bob' } };
    expect(registry.evaluate('review-ok@1', data).passed).toBe(true);
    expect(registry.evaluate('review-ok', data).passed).toBe(false);
  });

  it('adds no version when the rule does not compile', () => {
    const registry = registryWithReview();
    const registration = registry.register('review-ok', 'data.scor >= 4 && dta.x', options);
    expect(registration.ok).toBe(false);
    if (!registration.ok) expect(registration.issues.map((issue) => issue.code)).toEqual(['unknown_variable']);
    expect(registry.get('review-ok')?.version).toBe(2);
  });

  it('refuses names it could not reference', () => {
    const registry = new RuleRegistry();
    for (const name of ['', 'has@sign', ' spaced', '-leading', 'x'.repeat(129)]) {
      const registration = registry.register(name, 'true', options);
      expect(registration.ok).toBe(false);
      if (!registration.ok) expect(registration.issues[0]?.code).toBe('invalid_name');
    }
    expect(registry.register('team/cost.rules_v2-a', 'true', options).ok).toBe(true);
  });

  it('answers unknown references with an unknown_rule verdict that says why', () => {
    const registry = registryWithReview();
    expect(registry.evaluate('review-okk', {}).error).toEqual({
      code: RuleErrorCode.unknownRule,
      message: "no rule named 'review-okk'; did you mean 'review-ok'?",
    });
    expect(registry.evaluate('review-ok@9', {}).error?.message).toBe("rule 'review-ok' has versions 1 to 2, not 9");
    expect(registry.evaluate('review-ok@x', {}).error?.message).toContain('not a rule reference');
  });

  it('explains on request', () => {
    const verdict = registryWithReview().evaluate('review-ok@1', { data: { score: 1 } }, { explain: true });
    expect(verdict.explanation).toMatchObject({ type: 'condition', field: 'data.score', actual: 1, passed: false });
  });
});

describe('parseRuleRef', () => {
  it('splits name and version', () => {
    expect(parseRuleRef('review-ok')).toEqual({ name: 'review-ok', version: undefined });
    expect(parseRuleRef('review-ok@12')).toEqual({ name: 'review-ok', version: 12 });
    expect(parseRuleRef('review-ok@0')).toBeUndefined();
    expect(parseRuleRef('review-ok@')).toBeUndefined();
    expect(parseRuleRef('@3')).toBeUndefined();
  });
});

describe('evaluateRule', () => {
  const data = { data: { score: 5, reviewer: 'ada', author: 'bob' } };

  it('evaluates a compiled rule, a reference, or rule source, without a workflow', () => {
    const compiled = compileRule('data.score > 4', options);
    if (!compiled.ok) throw new Error('expected to compile');
    expect(evaluateRule(compiled.rule, data).passed).toBe(true);
    expect(evaluateRule({ ref: 'review-ok' }, data, { registry: registryWithReview() }).passed).toBe(true);
    expect(evaluateRule({ field: 'data.score', op: 'lt', value: 5 }, data).passed).toBe(false);
    expect(evaluateRule("data.reviewer == 'ada'", data).passed).toBe(true);
  });

  it('declares the keys of the data for inline source, unless told otherwise', () => {
    expect(evaluateRule('data.score > 1', data, { variables: ['token'] }).error?.code).toBe(RuleErrorCode.invalidRule);
    const verdict = evaluateRule('other.score > 1', data);
    expect(verdict.error?.code).toBe(RuleErrorCode.invalidRule);
    expect(verdict.error?.issues?.[0]?.code).toBe('unknown_variable');
    expect(verdict.error?.message).toContain("'other' is not a declared variable");
  });

  it('reads legacy source when asked', () => {
    expect(evaluateRule('data.score = 5', data).error?.code).toBe(RuleErrorCode.invalidRule);
    expect(evaluateRule('data.score = 5', data, { legacySyntax: 'translate' }).passed).toBe(true);
  });

  it('returns values, not exceptions, for references without a registry', () => {
    expect(evaluateRule({ ref: 'review-ok' }, data).error?.code).toBe(RuleErrorCode.unknownRule);
  });

  it('explains on request', () => {
    const verdict = evaluateRule('data.score > 4 && data.reviewer == data.author', data, { explain: true });
    expect(verdict.explanation).toMatchObject({
      type: 'and',
      clauses: [{ passed: true }, { passed: false, references: [{ path: 'data.reviewer' }, { path: 'data.author' }] }],
    });
    expect(evaluateRule('data.score > 4', data).explanation).toBeUndefined();
  });
});
