import type { CelEnv } from '@bufbuild/cel';
import { celLibrary } from './cel-library.js';
import { builtinIdentifiers, positionOf, specialForms, walkCel } from './cel-ast.js';
import type { ParsedCel } from './cel-ast.js';
import { CelRule } from './cel-rule.js';
import type { RuleCompileOptions, RuleCompileResult } from './compiled-rule.js';
import { LegacySyntax } from './compiled-rule.js';
import { translateLegacyCondition } from './legacy-condition.js';
import { celRegexEngine, compileRegex } from './regex-guard.js';
import { atPath, describeOffset, ruleError, RuleIssueCode } from './rule-issue.js';
import type { RuleIssue } from './rule-issue.js';
import { didYouMean } from './suggest-name.js';

/** Longest CEL expression accepted, in characters. */
export const maxExpressionLength = 4096;

/** One environment for every rule: the standard library, with RE2 matching through the guarded cache. */
let sharedEnvironment: CelEnv | undefined;
const environment = (): CelEnv => (sharedEnvironment ??= celLibrary().celEnv({ re2: celRegexEngine }));

/**
 * Compiles a CEL expression once: parse, check every name against the declared variables and the
 * function table, validate constant regular expressions, and plan it for repeated evaluation. Legacy
 * SQL-like text is translated or answered with its CEL spelling, per `options.legacySyntax`.
 * `path` locates an expression embedded in a structured rule.
 */
export function compileCelRule(text: string, options: RuleCompileOptions, path = ''): RuleCompileResult {
  if (text.trim() === '') return fail(ruleError(RuleIssueCode.malformedRule, atPath(path, 'the expression is empty'), path));
  if (text.length > maxExpressionLength) {
    return fail(
      ruleError(
        RuleIssueCode.limitExceeded,
        atPath(path, `the expression is ${text.length} characters long; the limit is ${maxExpressionLength}`),
        path,
      ),
    );
  }
  let expression = text;
  let parsed = parseCel(text);
  const warnings: RuleIssue[] = [];
  if (!parsed.ok) {
    const translation = translateLegacyCondition(text);
    const reparsed = translation === undefined ? undefined : parseCel(translation.text);
    if (translation !== undefined && reparsed?.ok === true && options.legacySyntax === LegacySyntax.translate) {
      expression = translation.text;
      parsed = reparsed;
      const message = `legacy SQL-like condition read as the CEL expression \`${expression}\` (${translation.changes.join(', ')}); write it in CEL`;
      warnings.push({ code: RuleIssueCode.legacySyntax, severity: 'warning', message: atPath(path, message), path });
    } else {
      const hint =
        translation !== undefined && reparsed?.ok === true ? `; rules are written in CEL: did you mean \`${translation.text}\`?` : '';
      const message = `CEL syntax error at ${describeOffset(text, parsed.offset)}: ${parsed.message}${hint}`;
      return fail(ruleError(RuleIssueCode.syntaxError, atPath(path, message), path, parsed.offset));
    }
  }
  const issues = checkNames(parsed.parsed, expression, options.variables, path);
  if (issues.length > 0) return { ok: false, issues };
  try {
    const program = celLibrary().plan(environment(), parsed.parsed);
    return { ok: true, rule: new CelRule(expression, text, parsed.parsed, program, environment(), options.variables, warnings) };
  } catch (error) {
    return fail(ruleError(RuleIssueCode.limitExceeded, atPath(path, `the expression cannot be prepared: ${String(error)}`), path));
  }
}

type ParseOutcome = { ok: true; parsed: ParsedCel } | { ok: false; message: string; offset: number };

function parseCel(text: string): ParseOutcome {
  try {
    return { ok: true, parsed: celLibrary().parse(text) };
  } catch (error) {
    if (error instanceof RangeError) return { ok: false, message: 'the expression nests too deeply', offset: 0 };
    const details = error as { rawMessage?: unknown; location?: { start?: { offset?: unknown } } };
    const offset = typeof details.location?.start?.offset === 'number' ? details.location.start.offset : 0;
    const message = typeof details.rawMessage === 'string' ? details.rawMessage : String(error);
    return { ok: false, message, offset };
  }
}

/** Unknown variables and functions, and constant patterns that RE2 refuses: all of them, located. */
function checkNames(parsed: ParsedCel, text: string, variables: readonly string[], path: string): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const seen = new Set<string>();
  const report = (code: RuleIssueCode, id: bigint, message: string) => {
    const offset = positionOf(parsed, id);
    const where = offset === undefined ? '' : ` (at ${describeOffset(text, offset)})`;
    if (seen.has(message)) return;
    seen.add(message);
    issues.push(ruleError(code, atPath(path, `${message}${where}`), path, offset));
  };
  walkCel(parsed.expr, new Set(), (node, bound) => {
    const kind = node.exprKind;
    if (kind.case === 'identExpr') {
      const name = kind.value.name;
      if (bound.has(name) || variables.includes(name) || builtinIdentifiers.has(name)) return;
      report(
        RuleIssueCode.unknownVariable,
        node.id,
        `'${name}' is not a declared variable (declared: ${variables.join(', ')})${didYouMean(name, variables)}`,
      );
    } else if (kind.case === 'structExpr' && kind.value.messageName !== '') {
      report(RuleIssueCode.unknownVariable, node.id, `message type '${kind.value.messageName}' is not known: rules have no message types`);
    } else if (kind.case === 'callExpr') {
      const name = kind.value.function;
      if (!specialForms.has(name) && environment().funcs.find(name) === undefined) {
        report(RuleIssueCode.unknownFunction, node.id, `unknown function '${name}'${didYouMean(name, functionNames())}`);
      }
      const pattern = name === 'matches' ? kind.value.args[kind.value.target === undefined ? 1 : 0] : undefined;
      const constant = pattern?.exprKind.case === 'constExpr' ? pattern.exprKind.value.constantKind : undefined;
      if (constant?.case === 'stringValue') {
        const compiled = compileRegex(constant.value);
        if (!compiled.ok) report(RuleIssueCode.invalidRegex, pattern?.id ?? node.id, compiled.message);
      }
    }
  });
  return issues;
}

function functionNames(): string[] {
  return Array.from(environment().funcs, (func) => func.name).filter((name) => /^[a-z]/i.test(name));
}

function fail(issue: RuleIssue): RuleCompileResult {
  return { ok: false, issues: [issue] };
}
