import type { CelError, CelInput, CelResult, plan } from '@bufbuild/cel';
import { celLibrary } from './cel-library.js';
import { findNode, positionOf, readPath } from './cel-ast.js';
import type { ParsedCel } from './cel-ast.js';
import type { RuleData } from './compiled-rule.js';
import { lookupPath } from './field-path.js';
import { describeOffset } from './rule-issue.js';
import { renderValue, toPlainValue, typeName } from './rule-value.js';
import { RuleErrorCode, verdictOf } from './rule-verdict.js';
import type { RuleEvaluationError, RuleVerdict } from './rule-verdict.js';

/**
 * Running a planned CEL program and reading its result: only the boolean `true` passes; a CEL error
 * value becomes a rule error that names the path at fault and the operand values it saw.
 */

export type CelProgram = ReturnType<typeof plan>;

/** Runs a program a thrown exception (never expected) becomes a CEL error value too. */
export function runProgram(program: CelProgram, data: RuleData): CelResult | Error {
  try {
    return program(data as Record<string, CelInput>);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** A program's result as a verdict: only the boolean `true` passes. */
export function celVerdict(result: CelResult | Error, parsed: ParsedCel, text: string, data: RuleData): RuleVerdict {
  if (result === true || result === false) return verdictOf(result);
  if (celLibrary().isCelError(result)) return { passed: false, value: undefined, error: celEvaluationError(result, parsed, text, data) };
  if (result instanceof Error)
    return { passed: false, value: undefined, error: { code: RuleErrorCode.evaluationError, message: result.message } };
  const value = toPlainValue(result);
  const message = `the expression gave ${renderValue(value)} (a ${typeName(value)}), not a boolean`;
  return { passed: false, value, error: { code: RuleErrorCode.notBoolean, message } };
}

/** Maps a CEL error to a rule error, naming the path at fault and the values of the operands seen. */
export function celEvaluationError(error: CelError, parsed: ParsedCel, text: string, data: RuleData): RuleEvaluationError {
  const reason = error.message;
  const code = /not found|no such key|unresolved attribute|no such attribute/i.test(reason)
    ? RuleErrorCode.missingField
    : /no matching overload|no such overload/i.test(reason)
      ? RuleErrorCode.typeMismatch
      : RuleErrorCode.evaluationError;
  const node = error.exprId === undefined || parsed.expr === undefined ? undefined : findNode(parsed.expr, error.exprId);
  const offset = error.exprId === undefined ? undefined : positionOf(parsed, error.exprId);
  const where = offset === undefined ? '' : ` at ${describeOffset(text, offset)}`;
  const subject = node === undefined ? undefined : readPath(node);
  let message: string;
  if (code === RuleErrorCode.missingField && subject !== undefined) message = `'${subject.join('.')}' is missing${where} (${reason})`;
  else {
    const operands = node?.exprKind.case === 'callExpr' ? [node.exprKind.value.target, ...node.exprKind.value.args] : [];
    const seen = operands.flatMap((operand) => {
      const operandPath = operand === undefined ? undefined : readPath(operand);
      const lookup = operandPath === undefined ? undefined : lookupPath(data, operandPath);
      return operandPath === undefined || lookup?.found !== true
        ? []
        : [`${operandPath.join('.')} = ${renderValue(lookup.value)} (${typeName(lookup.value)})`];
    });
    message = `${code === RuleErrorCode.typeMismatch ? 'type mismatch' : 'evaluation error'}${where}: ${reason}${seen.length > 0 ? `; ${seen.join(', ')}` : ''}`;
  }
  return offset === undefined ? { code, message } : { code, message, offset };
}
