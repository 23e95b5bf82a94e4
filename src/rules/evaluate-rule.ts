import { compileRule } from './compile-rule.js';
import { isCompiledRule } from './compiled-rule.js';
import type { CompiledRule, LegacySyntax, RuleData, RuleSource } from './compiled-rule.js';
import type { RuleRegistry } from './rule-registry.js';
import { RuleErrorCode } from './rule-verdict.js';
import type { RuleVerdict } from './rule-verdict.js';

/** A reference to a registered rule: `{ ref: 'review-ok' }` (latest) or `{ ref: 'review-ok@2' }`. */
export interface RuleRef {
  ref: string;
}

/** Options of `evaluateRule`; all optional. */
export interface EvaluateRuleOptions {
  /** Where references are looked up. */
  registry?: RuleRegistry;
  /** Attach an explanation to the verdict. */
  explain?: boolean;
  /** For rule source given inline: the declared variables (default: the keys of `data`). */
  variables?: readonly string[];
  legacySyntax?: LegacySyntax;
}

/** True for `{ ref: string }`. */
export function isRuleRef(value: unknown): value is RuleRef {
  return typeof value === 'object' && value !== null && typeof (value as { ref?: unknown }).ref === 'string';
}

/**
 * Evaluates a rule against plain data, without a workflow: a compiled rule, a reference into a
 * registry, or rule source (compiled on the spot, so meant for tools and tests; hot paths compile
 * once). Never throws: an unknown reference is an `unknown_rule` error, source that does not compile an
 * `invalid_rule` error carrying the issues.
 *
 * @example
 * evaluateRule({ field: 'data.review.score', op: 'gte', value: 4 }, { data: { review: { score: 5 } } }).passed; // true
 */
export function evaluateRule(rule: CompiledRule | RuleRef | RuleSource, data: RuleData, options: EvaluateRuleOptions = {}): RuleVerdict {
  const explain = options.explain === true;
  if (isCompiledRule(rule)) return explain ? rule.explain(data) : rule.evaluate(data);
  if (isRuleRef(rule)) {
    if (options.registry === undefined) {
      return {
        passed: false,
        value: undefined,
        error: { code: RuleErrorCode.unknownRule, message: `'${rule.ref}' is a reference, but no registry was given` },
      };
    }
    return options.registry.evaluate(rule.ref, data, { explain });
  }
  const compiled = compileRule(rule, {
    variables: options.variables ?? Object.keys(data),
    ...(options.legacySyntax === undefined ? {} : { legacySyntax: options.legacySyntax }),
  });
  if (!compiled.ok) {
    const message = `the rule does not compile: ${compiled.issues.map((issue) => issue.message).join('; ')}`;
    return { passed: false, value: undefined, error: { code: RuleErrorCode.invalidRule, message, issues: compiled.issues } };
  }
  return explain ? compiled.rule.explain(data) : compiled.rule.evaluate(data);
}
