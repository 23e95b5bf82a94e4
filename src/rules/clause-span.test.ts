import { describe, expect, it } from 'vitest';
import { compileRule } from './compile-rule.js';
import type { RuleTrace } from './rule-verdict.js';

/** The clause texts of an expression's explanation, leaves only, in order. */
function clauses(text: string): string[] {
  const variables = ['a', 'b', 'c', 'd'];
  const result = compileRule(text, { variables });
  if (!result.ok) throw new Error(result.issues.map((issue) => issue.message).join('\n'));
  const leaves: string[] = [];
  const visit = (trace: RuleTrace): void => {
    if (trace.type === 'expression') leaves.push(trace.source);
    else if (trace.type === 'not') visit(trace.clause);
    else if (trace.type === 'and' || trace.type === 'or') trace.clauses.forEach(visit);
  };
  visit(result.rule.explain({ a: 1, b: 2, c: 3, d: 4 }).explanation);
  return leaves;
}

describe('clause texts in explanations', () => {
  it.each<[string, string[]]>([
    ['a > 1 && b > 1', ['a > 1', 'b > 1']],
    ['a > 1 && b > 1 && c > 1 && d > 1', ['a > 1', 'b > 1', 'c > 1', 'd > 1']],
    ['(a > 1 || b > 1) && c > 1', ['a > 1', 'b > 1', 'c > 1']],
    ['a > 1 && (b > 1 || c > 1)', ['a > 1', 'b > 1', 'c > 1']],
    ['((a > 1)) && b > 1', ['a > 1', 'b > 1']],
    ['a > 1 && !b.x', ['a > 1', 'b.x']],
    ['!(a > 1 && b > 1)', ['a > 1', 'b > 1']],
    ['(a + 1) > 2 && -b < 0', ['(a + 1) > 2', '-b < 0']],
    ["a == 1 && 'x(' + 'y' == 'x(y' && c > 1", ['a == 1', "'x(' + 'y' == 'x(y'", 'c > 1']],
    ['a > 1\n  && b > 1\n  || c > 1', ['a > 1', 'b > 1', 'c > 1']],
    ['[1, 2].exists(v, v > a) || has(b.c)', ['[1, 2].exists(v, v > a)', 'has(b.c)']],
  ])('%s', (text, expected) => {
    expect(clauses(text)).toEqual(expected);
  });
});
