import { describe, expect, it } from 'vitest';
import { maxExpressionLength } from './cel-compile.js';
import { compileRule } from './compile-rule.js';
import type { CompiledRule, RuleCompileOptions } from './compiled-rule.js';
import type { RuleIssue } from './rule-issue.js';

const guards: RuleCompileOptions = { variables: ['token', 'variables'] };

function compiled(text: string, options: RuleCompileOptions = guards): CompiledRule {
  const result = compileRule(text, options);
  if (!result.ok) throw new Error(result.issues.map((issue) => issue.message).join('\n'));
  return result.rule;
}

function issuesOf(text: string, options: RuleCompileOptions = guards): RuleIssue[] {
  const result = compileRule(text, options);
  if (result.ok) throw new Error(`expected '${text}' to be refused`);
  return result.issues;
}

describe('CEL rules are checked at compile time', () => {
  it('refuses syntax errors, saying where', () => {
    const [issue] = issuesOf('token.data.priority > 5 &&\n  token.metadata.status == ');
    expect(issue?.code).toBe('syntax_error');
    expect(issue?.message).toMatch(/^CEL syntax error at line \d+, column \d+: /);
    expect(issuesOf('(token.a').map((found) => found.code)).toEqual(['syntax_error']);
  });

  it('refuses names that are not declared, with a suggestion and the place', () => {
    const [issue] = issuesOf('tokn.data.priority > 5');
    expect(issue).toMatchObject({ code: 'unknown_variable', offset: 0 });
    expect(issue?.message).toBe(
      "'tokn' is not a declared variable (declared: token, variables); did you mean 'token'? (at line 1, column 1)",
    );
    expect(issuesOf("token.a > 1 && user == 'x' && [1].exists(v, v > limit)").map((found) => found.message.split(' ')[0])).toEqual([
      "'user'",
      "'limit'",
    ]);
    expect(issuesOf('Message{a: 1} == token').map((found) => found.code)).toEqual(['unknown_variable']);
  });

  it('accepts the declared names of each scope and only those', () => {
    const cost: RuleCompileOptions = { variables: ['token_count', 'model', 'environment', 'cost_today', 'user', 'tags'] };
    expect(
      compiled("token_count < 500 && model == 'gpt-4' && 'batch' in tags", cost).evaluate({
        token_count: 10,
        model: 'gpt-4',
        tags: ['batch'],
      }).passed,
    ).toBe(true);
    expect(issuesOf('token.data.priority > 5', cost)[0]?.code).toBe('unknown_variable');
  });

  it('refuses unknown functions and invalid constant regexes', () => {
    expect(issuesOf('lookup(token) == 1')[0]).toMatchObject({ code: 'unknown_function' });
    expect(issuesOf('token.name.sizee() > 1')[0]?.message).toContain("did you mean 'size'?");
    const [regex] = issuesOf("token.name.matches('(a')");
    expect(regex).toMatchObject({ code: 'invalid_regex', offset: 19 });
    expect(issuesOf("matches(token.name, 'a{2,1}')")[0]?.code).toBe('invalid_regex');
  });

  it('enforces the length and nesting limits', () => {
    expect(issuesOf(`token.a == '${'x'.repeat(maxExpressionLength)}'`)[0]?.code).toBe('limit_exceeded');
    expect(issuesOf(`${'('.repeat(2000)}true${')'.repeat(2000)}`)[0]?.code).toBe('syntax_error');
    expect(issuesOf('   ')[0]?.message).toBe('the expression is empty');
  });
});

describe('compile once, evaluate many times', () => {
  it('evaluates a simple compiled cost rule in microseconds', () => {
    const rule = compiled("token_count < 500 && complexity == 'low'", { variables: ['token_count', 'complexity'] });
    const data = { token_count: 120, complexity: 'low' };
    const rounds = 2000;
    let best = Number.POSITIVE_INFINITY;
    for (let batch = 0; batch < 5; batch++) {
      const started = performance.now();
      for (let round = 0; round < rounds; round++) rule.evaluate(data);
      best = Math.min(best, ((performance.now() - started) * 1000) / rounds);
    }
    // Typically ~0.5 µs; re-parsing per call would cost 20 µs or more.
    expect(best).toBeLessThan(15);
  });
});
