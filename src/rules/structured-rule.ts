/**
 * The structured (JSON) form of a rule, for builders and imports. A rule is one of:
 *
 * - a condition `{ "field": "data.review.score", "op": "gte", "value": 5 }` (`exists` takes no `value`);
 * - a composition `{ "and": [rule, ...] }`, `{ "or": [rule, ...] }`, `{ "not": rule }`;
 * - an embedded CEL expression `{ "cel": "size(data.tags) > 2" }`, checked like any other expression.
 *
 * `field` is a dotted path whose first segment is a declared variable; see docs/rules.md.
 */

/** The operators of structured conditions (docs/rules.md has their semantics). */
export const RuleOperator = {
  exists: 'exists',
  eq: 'eq',
  neq: 'neq',
  gt: 'gt',
  gte: 'gte',
  lt: 'lt',
  lte: 'lte',
  contains: 'contains',
  in: 'in',
  notIn: 'not_in',
  startsWith: 'starts_with',
  endsWith: 'ends_with',
  matches: 'matches',
} as const;
export type RuleOperator = (typeof RuleOperator)[keyof typeof RuleOperator];

/** Data as JSON can carry it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A leaf condition: the value at `field` compared by `op` with `value`. */
export type StructuredCondition =
  | { field: string; op: typeof RuleOperator.exists }
  | { field: string; op: Exclude<RuleOperator, typeof RuleOperator.exists>; value: JsonValue };

/** A structured rule: a condition, a composition, or an embedded CEL expression. */
export type StructuredRule =
  StructuredCondition | { and: StructuredRule[] } | { or: StructuredRule[] } | { not: StructuredRule } | { cel: string };

const operators: ReadonlySet<string> = new Set(Object.values(RuleOperator));

/** True for a known operator name. */
export function isRuleOperator(name: unknown): name is RuleOperator {
  return typeof name === 'string' && operators.has(name);
}

/** Spellings people reach for, mapped to the operator they mean (for "did you mean" messages only). */
export const operatorAliases: Readonly<Record<string, RuleOperator>> = {
  '=': 'eq',
  '==': 'eq',
  equals: 'eq',
  equal: 'eq',
  is: 'eq',
  '!=': 'neq',
  '<>': 'neq',
  ne: 'neq',
  not_equals: 'neq',
  not_equal: 'neq',
  '>': 'gt',
  greater_than: 'gt',
  '>=': 'gte',
  ge: 'gte',
  greater_than_or_equal: 'gte',
  '<': 'lt',
  less_than: 'lt',
  '<=': 'lte',
  le: 'lte',
  less_than_or_equal: 'lte',
  has: 'exists',
  exist: 'exists',
  field_exists: 'exists',
  includes: 'contains',
  nin: 'not_in',
  notin: 'not_in',
  startswith: 'starts_with',
  endswith: 'ends_with',
  regex: 'matches',
  regexp: 'matches',
  match: 'matches',
};
