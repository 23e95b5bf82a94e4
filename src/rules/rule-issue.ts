/**
 * Compile-time findings about a rule. A rule that has an issue of severity `error` does not compile:
 * nothing about it is left to be discovered at run time. Issues are values (STYLE habit 4), so a
 * workflow publisher or the config loader can report all of them at once.
 */

export const RuleIssueCode = {
  /** The CEL text does not parse. */
  syntaxError: 'syntax_error',
  /** A structured rule is not one of the documented shapes (wrong types, unexpected keys, empty lists). */
  malformedRule: 'malformed_rule',
  /** A structured condition names an operator that does not exist. */
  unknownOperator: 'unknown_operator',
  /** A path or identifier starts with a name that is not among the declared variables. */
  unknownVariable: 'unknown_variable',
  /** A CEL call names a function that the environment does not have. */
  unknownFunction: 'unknown_function',
  /** A regular expression does not compile (RE2 syntax) or is too long. */
  invalidRegex: 'invalid_regex',
  /** A rule name or reference that the registry cannot accept. */
  invalidName: 'invalid_name',
  /** The rule is longer or deeper than the documented limits. */
  limitExceeded: 'limit_exceeded',
  /** Warning: the text was in the legacy SQL-like form and was translated to CEL. */
  legacySyntax: 'legacy_syntax',
} as const;
export type RuleIssueCode = (typeof RuleIssueCode)[keyof typeof RuleIssueCode];

/** One compile-time finding: what, where, and whether it stops compilation. */
export interface RuleIssue {
  code: RuleIssueCode;
  severity: 'error' | 'warning';
  /** What is wrong and where, written for the rule's author. */
  message: string;
  /** Where in a structured rule (`and[1].op`); `''` for the root or for a CEL expression. */
  path: string;
  /** 0-based character offset in the CEL text, when the issue is in an expression. */
  offset?: number;
}

/** An error issue, located by `path` (structured rules) and optionally an `offset` (CEL text). */
export function ruleError(code: RuleIssueCode, message: string, path = '', offset?: number): RuleIssue {
  return offset === undefined ? { code, severity: 'error', message, path } : { code, severity: 'error', message, path, offset };
}

/** "line 2, column 7" for a 0-based offset in `text`, for messages. */
export function describeOffset(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let index = 0; index < offset && index < text.length; index++) {
    if (text[index] === '\n') {
      line++;
      lineStart = index + 1;
    }
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

/** Prefixes a message with the rule path it concerns (`and[1]: ...`), when there is one. */
export function atPath(path: string, message: string): string {
  return path === '' ? message : `${path}: ${message}`;
}
