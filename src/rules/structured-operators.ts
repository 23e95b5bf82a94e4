import { compileRegex } from './regex-guard.js';
import { RuleIssueCode } from './rule-issue.js';
import { jsonEquals, renderValue, typeName } from './rule-value.js';
import { RuleOperator } from './structured-rule.js';

/**
 * The operators of structured conditions: the check of the `value` a condition is written with (at
 * compile time) and the test of the field's value against it (at run time). A test answers `true`,
 * `false`, or a type-mismatch message; a missing field never reaches a test (the caller decides).
 */

export type OperatorTest = (actual: unknown) => boolean | { mismatch: string };

/** The run-time test, or the compile issue the value raises. */
export type PreparedOperator = { ok: true; test: OperatorTest } | { ok: false; code: RuleIssueCode; message: string };

/** Checks `value` for `op` and returns the run-time test. `hasValue` is false when the key is absent. */
export function prepareOperator(op: RuleOperator, value: unknown, hasValue: boolean): PreparedOperator {
  if (op === RuleOperator.exists) {
    if (hasValue) return malformed(`'exists' takes no value; to require absence, write { "not": { "field": ..., "op": "exists" } }`);
    return { ok: true, test: () => true };
  }
  if (!hasValue) return malformed(`'${op}' needs a value`);
  if (!isJsonValue(value))
    return malformed(`the value of '${op}' must be JSON data (finite numbers, strings, booleans, null, lists, maps)`);
  switch (op) {
    case RuleOperator.eq:
      return { ok: true, test: (actual) => jsonEquals(actual, value) };
    case RuleOperator.neq:
      return { ok: true, test: (actual) => !jsonEquals(actual, value) };
    case RuleOperator.gt:
    case RuleOperator.gte:
    case RuleOperator.lt:
    case RuleOperator.lte:
      if (typeof value !== 'number' && typeof value !== 'string')
        return malformed(`'${op}' compares with a number or a string, not a ${typeName(value)}`);
      return { ok: true, test: ordering(op, value) };
    case RuleOperator.contains:
      return { ok: true, test: (actual) => contains(actual, value) };
    case RuleOperator.in:
    case RuleOperator.notIn: {
      if (!Array.isArray(value)) return malformed(`'${op}' needs a list as its value, not a ${typeName(value)}`);
      const negate = op === RuleOperator.notIn;
      return { ok: true, test: (actual) => value.some((item) => jsonEquals(actual, item)) !== negate };
    }
    case RuleOperator.startsWith:
    case RuleOperator.endsWith: {
      if (typeof value !== 'string') return malformed(`'${op}' needs a string as its value, not a ${typeName(value)}`);
      const atStart = op === RuleOperator.startsWith;
      return {
        ok: true,
        test: (actual) =>
          typeof actual === 'string' ? (atStart ? actual.startsWith(value) : actual.endsWith(value)) : needs(op, 'a string', actual),
      };
    }
    case RuleOperator.matches: {
      if (typeof value !== 'string') return malformed(`'matches' needs a regular expression string as its value, not a ${typeName(value)}`);
      const compiled = compileRegex(value);
      if (!compiled.ok) return { ok: false, code: RuleIssueCode.invalidRegex, message: compiled.message };
      const matcher = compiled.matcher;
      return { ok: true, test: (actual) => (typeof actual === 'string' ? matcher.test(actual) : needs(op, 'a string', actual)) };
    }
  }
}

function ordering(op: RuleOperator, expected: number | string): OperatorTest {
  return (actual) => {
    if (typeof actual !== typeof expected) {
      return {
        mismatch: `'${op}' compares a ${typeName(expected)} with a ${typeName(expected)}, but the field holds a ${typeName(actual)} (${renderValue(actual)})`,
      };
    }
    const left = actual as number | string;
    if (op === RuleOperator.gt) return left > expected;
    if (op === RuleOperator.gte) return left >= expected;
    if (op === RuleOperator.lt) return left < expected;
    return left <= expected;
  };
}

function contains(actual: unknown, expected: unknown): boolean | { mismatch: string } {
  if (Array.isArray(actual)) return actual.some((item) => jsonEquals(item, expected));
  if (typeof actual === 'string') {
    if (typeof expected === 'string') return actual.includes(expected);
    return { mismatch: `'contains' on a string needs a string value, not a ${typeName(expected)}` };
  }
  return needs('contains', 'a string or a list', actual);
}

function needs(op: string, what: string, actual: unknown): { mismatch: string } {
  return { mismatch: `'${op}' needs ${what}, but the field holds a ${typeName(actual)} (${renderValue(actual)})` };
}

function malformed(message: string): PreparedOperator {
  return { ok: false, code: RuleIssueCode.malformedRule, message };
}

function isJsonValue(value: unknown, depth = 0): boolean {
  if (depth > 64) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((item) => isJsonValue(item, depth + 1));
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.values(value).every((item) => isJsonValue(item, depth + 1));
  }
  return false;
}
