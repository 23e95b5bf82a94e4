import { describe, expect, it } from 'vitest';
import { compileRule } from './compile-rule.js';
import type { CompiledRule } from './compiled-rule.js';
import { formatExplanation } from './format-explanation.js';
import { RuleErrorCode } from './rule-verdict.js';
import type { StructuredRule } from './structured-rule.js';

function compiled(rule: StructuredRule, variables = ['data', 'metadata']): CompiledRule {
  const result = compileRule(rule, { variables });
  if (!result.ok) throw new Error(result.issues.map((issue) => issue.message).join('\n'));
  return result.rule;
}

const data = {
  score: 7,
  ratio: 0.5,
  status: 'approved',
  title: 'Fix the login page',
  tags: ['urgent', 'frontend'],
  owner: null,
  review: { score: 4, reviewer: { name: 'ada' } },
  items: [{ name: 'first' }, { name: 'second' }],
};

describe('structured operators', () => {
  it.each<[string, StructuredRule, boolean]>([
    ['exists (present)', { field: 'data.review.score', op: 'exists' }, true],
    ['exists (null counts as present)', { field: 'data.owner', op: 'exists' }, true],
    ['exists (absent)', { field: 'data.review.missing', op: 'exists' }, false],
    ['eq number', { field: 'data.score', op: 'eq', value: 7 }, true],
    ['eq string (other)', { field: 'data.status', op: 'eq', value: 'draft' }, false],
    ['eq null', { field: 'data.owner', op: 'eq', value: null }, true],
    ['eq deep list', { field: 'data.tags', op: 'eq', value: ['urgent', 'frontend'] }, true],
    ['eq is type-strict', { field: 'data.score', op: 'eq', value: '7' }, false],
    ['neq', { field: 'data.status', op: 'neq', value: 'draft' }, true],
    ['neq (equal)', { field: 'data.status', op: 'neq', value: 'approved' }, false],
    ['gt', { field: 'data.score', op: 'gt', value: 5 }, true],
    ['gt (equal)', { field: 'data.score', op: 'gt', value: 7 }, false],
    ['gte (equal)', { field: 'data.score', op: 'gte', value: 7 }, true],
    ['lt', { field: 'data.ratio', op: 'lt', value: 0.75 }, true],
    ['lt (greater)', { field: 'data.score', op: 'lt', value: 3 }, false],
    ['lte (equal)', { field: 'data.ratio', op: 'lte', value: 0.5 }, true],
    ['gt on strings compares lexicographically', { field: 'data.status', op: 'gt', value: 'abc' }, true],
    ['contains (substring)', { field: 'data.title', op: 'contains', value: 'login' }, true],
    ['contains (substring, absent)', { field: 'data.title', op: 'contains', value: 'logout' }, false],
    ['contains (list element)', { field: 'data.tags', op: 'contains', value: 'urgent' }, true],
    ['contains (list, absent)', { field: 'data.tags', op: 'contains', value: 'backend' }, false],
    ['in', { field: 'data.status', op: 'in', value: ['approved', 'merged'] }, true],
    ['in (absent)', { field: 'data.status', op: 'in', value: ['draft'] }, false],
    ['not_in', { field: 'data.status', op: 'not_in', value: ['draft', 'rejected'] }, true],
    ['not_in (present)', { field: 'data.status', op: 'not_in', value: ['approved'] }, false],
    ['starts_with', { field: 'data.title', op: 'starts_with', value: 'Fix' }, true],
    ['starts_with (no)', { field: 'data.title', op: 'starts_with', value: 'Add' }, false],
    ['ends_with', { field: 'data.title', op: 'ends_with', value: 'page' }, true],
    ['ends_with (no)', { field: 'data.title', op: 'ends_with', value: 'Fix' }, false],
    ['matches', { field: 'data.title', op: 'matches', value: '^Fix\\b.*page$' }, true],
    ['matches (no)', { field: 'data.title', op: 'matches', value: '^Add' }, false],
  ])('%s', (_name, rule, expected) => {
    const verdict = compiled(rule).evaluate({ data });
    expect(verdict.error).toBeUndefined();
    expect(verdict.passed).toBe(expected);
  });
});

describe('structured paths', () => {
  it('follows dotted paths and list indexes', () => {
    expect(compiled({ field: 'data.review.reviewer.name', op: 'eq', value: 'ada' }).evaluate({ data }).passed).toBe(true);
    expect(compiled({ field: 'data.items.1.name', op: 'eq', value: 'second' }).evaluate({ data }).passed).toBe(true);
  });

  it('reads a second declared variable', () => {
    expect(compiled({ field: 'metadata.stage', op: 'eq', value: 'review' }).evaluate({ data, metadata: { stage: 'review' } }).passed).toBe(
      true,
    );
  });

  it('makes a missing path an error naming the path, not a silent pass or fail', () => {
    for (const field of ['data.review.missing', 'data.nothing.deeper', 'data.items.5.name', 'data.items.x', 'data.score.deeper']) {
      const verdict = compiled({ field, op: 'eq', value: 1 }).evaluate({ data });
      expect(verdict.passed).toBe(false);
      expect(verdict.error?.code).toBe(RuleErrorCode.missingField);
      expect(verdict.error?.message).toContain(field);
    }
  });

  it('never walks into the prototype chain', () => {
    const verdict = compiled({ field: 'data.constructor', op: 'exists' }).evaluate({ data: {} });
    expect(verdict).toMatchObject({ passed: false, error: undefined });
  });

  it('a missing declared variable is a missing path too', () => {
    expect(compiled({ field: 'metadata.stage', op: 'eq', value: 'x' }).evaluate({ data }).error?.code).toBe(RuleErrorCode.missingField);
  });
});

describe('structured type mismatches', () => {
  it.each<[string, StructuredRule]>([
    ['gt on a string field with a number', { field: 'data.status', op: 'gt', value: 5 }],
    ['lte on a list', { field: 'data.tags', op: 'lte', value: 5 }],
    ['contains on a number', { field: 'data.score', op: 'contains', value: 7 }],
    ['contains a number in a string', { field: 'data.title', op: 'contains', value: 7 }],
    ['starts_with on a number', { field: 'data.score', op: 'starts_with', value: '7' }],
    ['matches on null', { field: 'data.owner', op: 'matches', value: '.*' }],
  ])('%s is a type_mismatch error', (_name, rule) => {
    const verdict = compiled(rule).evaluate({ data });
    expect(verdict.passed).toBe(false);
    expect(verdict.error?.code).toBe(RuleErrorCode.typeMismatch);
  });
});

describe('structured composition', () => {
  const high = { field: 'data.score', op: 'gt', value: 5 } as const;
  const low = { field: 'data.score', op: 'lt', value: 5 } as const;
  const missing = { field: 'data.nope', op: 'eq', value: 1 } as const;

  it('and / or / not', () => {
    expect(compiled({ and: [high, { field: 'data.status', op: 'eq', value: 'approved' }] }).evaluate({ data }).passed).toBe(true);
    expect(compiled({ and: [high, low] }).evaluate({ data }).passed).toBe(false);
    expect(compiled({ or: [low, high] }).evaluate({ data }).passed).toBe(true);
    expect(compiled({ or: [low, low] }).evaluate({ data }).passed).toBe(false);
    expect(compiled({ not: low }).evaluate({ data }).passed).toBe(true);
    expect(compiled({ not: { or: [low, { not: high }] } }).evaluate({ data }).passed).toBe(true);
  });

  it('follows CEL logic for errors: a decisive clause wins, otherwise the error stands', () => {
    expect(compiled({ or: [missing, high] }).evaluate({ data })).toMatchObject({ passed: true, error: undefined });
    expect(compiled({ and: [missing, low] }).evaluate({ data })).toMatchObject({ passed: false, error: undefined });
    expect(compiled({ and: [high, missing] }).evaluate({ data }).error?.code).toBe(RuleErrorCode.missingField);
    expect(compiled({ not: missing }).evaluate({ data }).error?.code).toBe(RuleErrorCode.missingField);
    const optional = { and: [{ field: 'data.nope', op: 'exists' }, missing] } satisfies StructuredRule;
    expect(compiled(optional).evaluate({ data })).toMatchObject({ passed: false, error: undefined });
  });
});

describe('structured explanations', () => {
  it('shows every sub-condition with the values seen', () => {
    const rule = compiled({
      and: [
        { field: 'data.review.score', op: 'gte', value: 3 },
        { not: { field: 'data.status', op: 'eq', value: 'approved' } },
        { field: 'data.nope', op: 'eq', value: 1 },
      ],
    });
    const verdict = rule.explain({ data });
    expect(verdict.passed).toBe(false);
    expect(verdict.explanation).toEqual({
      type: 'and',
      passed: false,
      clauses: [
        { type: 'condition', path: 'and[0]', field: 'data.review.score', op: 'gte', expected: 3, found: true, actual: 4, passed: true },
        {
          type: 'not',
          passed: false,
          clause: {
            type: 'condition',
            path: 'and[1].not',
            field: 'data.status',
            op: 'eq',
            expected: 'approved',
            found: true,
            actual: 'approved',
            passed: true,
          },
        },
        expect.objectContaining({
          type: 'condition',
          field: 'data.nope',
          found: false,
          passed: false,
          error: expect.objectContaining({ code: 'missing_field', path: 'and[2]' }),
        }),
      ],
    });
    expect(formatExplanation(verdict.explanation)).toBe(
      [
        '✗ and',
        '  ✓ data.review.score gte 3 (saw 4)',
        '  ✗ not',
        '    ✓ data.status eq "approved" (saw "approved")',
        "  ! data.nope eq 1 (missing) — missing_field: and[2]: field 'data.nope' is missing",
      ].join('\n'),
    );
  });

  it('explain and evaluate agree', () => {
    const rule = compiled({
      or: [
        { field: 'data.score', op: 'lt', value: 3 },
        { field: 'data.tags', op: 'contains', value: 'urgent' },
      ],
    });
    expect(rule.explain({ data }).passed).toBe(rule.evaluate({ data }).passed);
    expect(rule.explain({ data }).passed).toBe(true);
  });
});
