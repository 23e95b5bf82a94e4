import type { RuleCompileOptions, RuleData } from './compiled-rule.js';
import { lookupPath, parseFieldPath } from './field-path.js';
import { atPath, ruleError, RuleIssueCode } from './rule-issue.js';
import type { RuleIssue } from './rule-issue.js';
import { RuleErrorCode } from './rule-verdict.js';
import type { RuleEvaluationError, RuleTrace } from './rule-verdict.js';
import type { StructuredNode } from './structured-composition.js';
import { prepareOperator } from './structured-operators.js';
import { isRuleOperator, operatorAliases, RuleOperator } from './structured-rule.js';
import { closestName, didYouMean } from './suggest-name.js';

/**
 * One structured condition, `{ field, op, value }`: the path is checked against the declared variables,
 * the operator against the known ones (with a suggestion), the value against the operator. At run time
 * a missing path is a `missing_field` error (except for `exists`), a wrong type a `type_mismatch`.
 */
export function compileCondition(
  record: Record<string, unknown>,
  options: RuleCompileOptions,
  path: string,
  issues: RuleIssue[],
): StructuredNode | undefined {
  const before = issues.length;
  const { field, op } = record;
  const fieldPath = typeof field === 'string' ? parseFieldPath(field) : `'field' must be a dotted path string, not ${describeGiven(field)}`;
  if (typeof fieldPath === 'string')
    issues.push(ruleError(RuleIssueCode.malformedRule, atPath(join(path, 'field'), fieldPath), join(path, 'field')));
  else {
    const root = fieldPath.segments[0] as string;
    if (!options.variables.includes(root)) {
      const message = `'${root}' in '${fieldPath.text}' is not a declared variable (declared: ${options.variables.join(', ')})${didYouMean(root, options.variables)}`;
      issues.push(ruleError(RuleIssueCode.unknownVariable, atPath(join(path, 'field'), message), join(path, 'field')));
    }
  }
  if (!isRuleOperator(op)) {
    const message =
      typeof op === 'string' ? `unknown operator '${op}'${suggestOperator(op)}` : `'op' must be an operator name, not ${describeGiven(op)}`;
    issues.push(
      ruleError(
        typeof op === 'string' ? RuleIssueCode.unknownOperator : RuleIssueCode.malformedRule,
        atPath(join(path, 'op'), `${message} (operators: ${Object.values(RuleOperator).join(', ')})`),
        join(path, 'op'),
      ),
    );
    return undefined;
  }
  const prepared = prepareOperator(op, record.value, 'value' in record);
  if (!prepared.ok) issues.push(ruleError(prepared.code, atPath(join(path, 'value'), prepared.message), join(path, 'value')));
  if (issues.length > before || !prepared.ok || typeof fieldPath === 'string') return undefined;
  const { segments, text } = fieldPath;
  const expected = record.value;
  const test = prepared.test;
  const outcome = (found: boolean, actual: unknown, missing: string): boolean | RuleEvaluationError => {
    if (!found) {
      if (op === RuleOperator.exists) return false;
      const where = missing === text ? '' : ` ('${missing}' is not there)`;
      return { code: RuleErrorCode.missingField, message: atPath(path, `field '${text}' is missing${where}`), path };
    }
    const result = test(actual);
    if (typeof result === 'boolean') return result;
    return { code: RuleErrorCode.typeMismatch, message: atPath(path, `${text}: ${result.mismatch}`), path };
  };
  return {
    evaluate(data: RuleData) {
      const lookup = lookupPath(data, segments);
      return lookup.found ? outcome(true, lookup.value, '') : outcome(false, undefined, lookup.missing);
    },
    explain(data: RuleData): RuleTrace {
      const lookup = lookupPath(data, segments);
      const result = lookup.found ? outcome(true, lookup.value, '') : outcome(false, undefined, lookup.missing);
      return {
        type: 'condition',
        path,
        field: text,
        op,
        ...(op === RuleOperator.exists ? {} : { expected }),
        found: lookup.found,
        ...(lookup.found ? { actual: lookup.value } : {}),
        passed: result === true,
        ...(typeof result === 'boolean' ? {} : { error: result }),
      };
    },
  };
}

function suggestOperator(op: string): string {
  const key = op
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  const known = isRuleOperator(key) ? key : (operatorAliases[key] ?? operatorAliases[key.replace(/_/g, '')]);
  const suggestion = known ?? closestName(op, Object.values(RuleOperator));
  return suggestion === undefined ? '' : `; did you mean '${suggestion}'?`;
}

/** `and[0]` + `op` → `and[0].op`. */
export function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** `a number`, `a list`, `null`, `nothing`: what was given instead, for messages. */
export function describeGiven(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}
