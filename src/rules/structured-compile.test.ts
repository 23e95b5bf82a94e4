import { describe, expect, it } from 'vitest';
import { compileRule } from './compile-rule.js';
import { maxRegexLength } from './regex-guard.js';
import type { RuleIssue } from './rule-issue.js';
import { maxRuleDepth } from './structured-compile.js';

const options = { variables: ['data', 'metadata'] };

function issuesOf(rule: unknown): RuleIssue[] {
  const result = compileRule(rule, options);
  if (result.ok) throw new Error('expected the rule to be refused');
  return result.issues;
}

describe('structured rules are checked at compile time', () => {
  it('refuses an unknown operator, suggesting the right one', () => {
    const [issue] = issuesOf({ field: 'data.score', op: 'greater_than', value: 5 });
    expect(issue).toMatchObject({ code: 'unknown_operator', path: 'op' });
    expect(issue?.message).toContain("unknown operator 'greater_than'; did you mean 'gt'?");
    expect(issuesOf({ field: 'data.name', op: 'startsWith', value: 'a' })[0]?.message).toContain("did you mean 'starts_with'?");
    expect(issuesOf({ field: 'data.name', op: 'regex', value: 'a' })[0]?.message).toContain("did you mean 'matches'?");
    expect(issuesOf({ field: 'data.name', op: 'gtee', value: 1 })[0]?.message).toContain("did you mean 'gte'?");
  });

  it('refuses a field whose first segment is not a declared variable', () => {
    const [issue] = issuesOf({ field: 'dta.score', op: 'gt', value: 5 });
    expect(issue).toMatchObject({ code: 'unknown_variable', path: 'field' });
    expect(issue?.message).toContain("'dta' in 'dta.score' is not a declared variable (declared: data, metadata); did you mean 'data'?");
    expect(issuesOf({ field: 'token.data.score', op: 'gt', value: 5 })[0]?.code).toBe('unknown_variable');
  });

  it.each<[string, unknown, string]>([
    ['a number', 42, 'a CEL expression (a string) or a structured rule (an object), not a number'],
    ['a list', [{ field: 'data.x', op: 'exists' }], 'not a list'],
    ['null', null, 'not null'],
    ['a non-object inside and', { and: ['data.x'] }, 'and[0]: a rule must be an object'],
    ['no known key', { fied: 'data.x' }, 'exactly one of'],
    ['a typo in the field key', { fied: 'data.x', op: 'exists' }, "unexpected key 'fied'"],
    ['two kinds at once', { and: [], field: 'data.x', op: 'exists' }, 'found and and field'],
    ['a typo in a condition key', { field: 'data.x', op: 'eq', valeu: 1 }, "unexpected key 'valeu'"],
    ['an extra key on a composition', { and: [{ field: 'data.x', op: 'exists' }], description: 'x' }, "unexpected key 'description'"],
    ['an empty and', { and: [] }, "'and' needs at least one rule"],
    ['or with an object', { or: { field: 'data.x', op: 'exists' } }, "'or' takes a list of rules"],
    ['a missing op', { field: 'data.x' }, "'op' must be an operator name, not nothing"],
    ['a non-string field', { field: 5, op: 'exists' }, "'field' must be a dotted path string"],
    ['an empty path segment', { field: 'data..x', op: 'exists' }, 'empty segment'],
    ['a trailing dot', { field: 'data.x.', op: 'exists' }, 'empty segment'],
    ['exists with a value', { field: 'data.x', op: 'exists', value: true }, "'exists' takes no value"],
    ['eq without a value', { field: 'data.x', op: 'eq' }, "'eq' needs a value"],
    ['gt with a list', { field: 'data.x', op: 'gt', value: [1] }, 'compares with a number or a string'],
    ['in with a string', { field: 'data.x', op: 'in', value: 'abc' }, "'in' needs a list"],
    ['starts_with with a number', { field: 'data.x', op: 'starts_with', value: 1 }, 'needs a string'],
    ['a non-finite number', { field: 'data.x', op: 'eq', value: Number.NaN }, 'must be JSON data'],
    ['a cel leaf that is not a string', { cel: 42 }, "'cel' must be a CEL expression string"],
  ])('refuses %s', (_name, rule, message) => {
    const issues = issuesOf(rule);
    expect(issues[0]?.message).toContain(message);
    expect(issues[0]?.severity).toBe('error');
  });

  it('validates regular expressions when the rule is compiled', () => {
    const [issue] = issuesOf({ field: 'data.name', op: 'matches', value: '(unclosed' });
    expect(issue).toMatchObject({ code: 'invalid_regex', path: 'value' });
    expect(issue?.message).toContain('not a valid RE2 regular expression');
    expect(issuesOf({ field: 'data.name', op: 'matches', value: '(a)\\1' })[0]?.code).toBe('invalid_regex');
    expect(issuesOf({ field: 'data.name', op: 'matches', value: 'a'.repeat(maxRegexLength + 1) })[0]?.message).toContain(
      'the limit is 1000',
    );
  });

  it('matches in linear time, so a catastrophic pattern stays harmless', () => {
    const result = compileRule({ field: 'data.name', op: 'matches', value: '(a+)+$' }, options);
    if (!result.ok) throw new Error('expected the pattern to compile');
    const started = performance.now();
    expect(result.rule.evaluate({ data: { name: `${'a'.repeat(5000)}!` } }).passed).toBe(false);
    expect(result.rule.evaluate({ data: { name: 'a'.repeat(5000) } }).passed).toBe(true);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('reports every issue at once, each with its path', () => {
    const issues = issuesOf({
      and: [
        { field: 'dat.score', op: 'gt', value: 1 },
        { or: [{ field: 'data.x', op: 'bogus', value: 1 }, { cel: 'data.x >' }] },
        { not: { nope: 1 } },
      ],
    });
    expect(issues.map((issue) => [issue.code, issue.path])).toEqual([
      ['unknown_variable', 'and[0].field'],
      ['unknown_operator', 'and[1].or[0].op'],
      ['syntax_error', 'and[1].or[1].cel'],
      ['malformed_rule', 'and[2].not'],
    ]);
    expect(issues[2]?.message.startsWith('and[1].or[1].cel: CEL syntax error')).toBe(true);
  });

  it('refuses rules nested deeper than the limit', () => {
    let rule: unknown = { field: 'data.x', op: 'exists' };
    for (let level = 0; level <= maxRuleDepth; level++) rule = { not: rule };
    expect(issuesOf(rule)[0]?.code).toBe('limit_exceeded');
  });

  it('refuses a variable declared twice', () => {
    const result = compileRule({ field: 'data.x', op: 'exists' }, { variables: ['data', 'data'] });
    expect(result.ok).toBe(false);
  });
});
