import { describe, expect, it } from 'vitest';
import { compileRule } from './compile-rule.js';
import type { CompiledRule, RuleCompileOptions } from './compiled-rule.js';
import { RuleErrorCode } from './rule-verdict.js';

const guards: RuleCompileOptions = { variables: ['token', 'variables'] };

function compiled(text: string, options: RuleCompileOptions = guards): CompiledRule {
  const result = compileRule(text, options);
  if (!result.ok) throw new Error(result.issues.map((issue) => issue.message).join('\n'));
  return result.rule;
}

const token = (priority: unknown, status: unknown) => ({ data: { priority, tags: ['a', 'b'] }, metadata: { status } });

describe('CEL guards', () => {
  const guard = compiled("token.data.priority > 5 && token.metadata.status == 'approved'");

  it('evaluates the spec example', () => {
    expect(guard.evaluate({ token: token(7, 'approved') })).toEqual({ passed: true, value: true, error: undefined });
    expect(guard.evaluate({ token: token(3, 'approved') }).passed).toBe(false);
    expect(guard.evaluate({ token: token(7, 'draft') }).passed).toBe(false);
  });

  it('compares JSON numbers with integer literals and lists', () => {
    expect(compiled('token.data.priority == 7').evaluate({ token: token(7, 'x') }).passed).toBe(true);
    expect(compiled('token.data.priority in [1, 7]').evaluate({ token: token(7, 'x') }).passed).toBe(true);
    expect(compiled('token.data.priority + 1.0 > 7.5').evaluate({ token: token(7, 'x') }).passed).toBe(true);
  });

  it('knows comprehension variables, macros and the standard library', () => {
    const rule = compiled("token.data.tags.exists(tag, tag.startsWith('a')) && has(token.metadata.status) && size(token.data.tags) == 2");
    expect(rule.evaluate({ token: token(1, 'x') }).passed).toBe(true);
    expect(
      compiled("type(token.data.priority) == double && token.metadata.status.matches('^app')").evaluate({ token: token(1, 'approved') })
        .passed,
    ).toBe(true);
  });

  it('makes run-time errors values, never exceptions', () => {
    const missing = guard.evaluate({ token: { data: {}, metadata: { status: 'approved' } } });
    expect(missing).toMatchObject({ passed: false, error: { code: RuleErrorCode.missingField } });
    expect(missing.error?.message).toContain("'token.data.priority' is missing");
    const mismatch = guard.evaluate({ token: token('high', 'approved') });
    expect(mismatch.error?.code).toBe(RuleErrorCode.typeMismatch);
    expect(mismatch.error?.message).toContain('token.data.priority = "high" (string)');
    expect(compiled('token.data.priority').evaluate({ token: token(7, 'x') })).toMatchObject({
      passed: false,
      value: 7,
      error: { code: 'not_boolean' },
    });
    expect(compiled('1 / 0 == 1').evaluate({}).error?.code).toBe(RuleErrorCode.evaluationError);
    expect(guard.evaluate({}).error?.code).toBe(RuleErrorCode.missingField);
    expect(compiled('token.x.matches(variables.pattern)').evaluate({ token: { x: 'a' }, variables: { pattern: '(' } }).error?.code).toBe(
      RuleErrorCode.evaluationError,
    );
  });

  it('follows CEL error absorption in && and ||', () => {
    expect(compiled('token.data.missing > 1 || token.data.priority > 5').evaluate({ token: token(7, 'x') }).passed).toBe(true);
    expect(compiled('token.data.missing > 1 && token.data.priority > 50').evaluate({ token: token(7, 'x') })).toMatchObject({
      passed: false,
      error: undefined,
    });
  });
});

describe('CEL explanations', () => {
  it('gives the verdict of each clause of a top-level chain, with the values read', () => {
    const guard = compiled("token.data.priority > 5 && token.metadata.status == 'approved'");
    const verdict = guard.explain({ token: token(7, 'draft') });
    expect(verdict.passed).toBe(false);
    expect(verdict.explanation).toEqual({
      type: 'and',
      passed: false,
      clauses: [
        {
          type: 'expression',
          source: 'token.data.priority > 5',
          passed: true,
          value: true,
          references: [{ path: 'token.data.priority', found: true, value: 7 }],
        },
        {
          type: 'expression',
          source: "token.metadata.status == 'approved'",
          passed: false,
          value: false,
          references: [{ path: 'token.metadata.status', found: true, value: 'draft' }],
        },
      ],
    });
  });

  it('splits nested groups and negations, keeping the source text of each clause', () => {
    const rule = compiled("(token.a > 1 || variables.force) && !(token.b == 'x') && token.list.exists(v, v > token.a)");
    const explanation = rule.explain({ token: { a: 2, b: 'y', list: [1] }, variables: { force: false } }).explanation;
    expect(explanation.type).toBe('and');
    if (explanation.type !== 'and') return;
    const [group, negation, exists] = explanation.clauses;
    expect(group).toMatchObject({
      type: 'or',
      passed: true,
      clauses: [
        { source: 'token.a > 1', passed: true },
        { source: 'variables.force', passed: false },
      ],
    });
    expect(negation).toMatchObject({ type: 'not', passed: true, clause: { source: "token.b == 'x'", passed: false } });
    expect(exists).toMatchObject({
      source: 'token.list.exists(v, v > token.a)',
      passed: false,
      references: [{ path: 'token.list' }, { path: 'token.a', value: 2 }],
    });
    expect(explanation.passed).toBe(false);
  });

  it('shows missing values and errors per clause, and agrees with evaluate', () => {
    const rule = compiled('token.data.missing > 1 || token.data.priority > 5');
    const data = { token: token(7, 'x') };
    const verdict = rule.explain(data);
    expect(verdict.passed).toBe(rule.evaluate(data).passed);
    expect(verdict.explanation).toMatchObject({
      type: 'or',
      passed: true,
      clauses: [
        { passed: false, error: { code: 'missing_field' }, references: [{ path: 'token.data.missing', found: false }] },
        { passed: true, references: [{ path: 'token.data.priority', value: 7 }] },
      ],
    });
  });

  it('explains a single expression as one clause', () => {
    expect(compiled('token.a > 5 ? token.b : false').explain({ token: { a: 9, b: true } }).explanation).toEqual({
      type: 'expression',
      source: 'token.a > 5 ? token.b : false',
      passed: true,
      value: true,
      references: [
        { path: 'token.a', found: true, value: 9 },
        { path: 'token.b', found: true, value: true },
      ],
    });
  });
});

describe('CEL inside structured rules', () => {
  it('compiles and explains an embedded expression', () => {
    const result = compileRule({ and: [{ field: 'token.a', op: 'gt', value: 1 }, { cel: 'size(token.tags) > 1' }] }, guards);
    if (!result.ok) throw new Error('expected to compile');
    const verdict = result.rule.explain({ token: { a: 2, tags: ['x'] } });
    expect(verdict.passed).toBe(false);
    expect(verdict.explanation).toMatchObject({
      type: 'and',
      clauses: [
        { type: 'condition', passed: true },
        { type: 'expression', passed: false },
      ],
    });
  });
});
