import { compileRule } from './compile-rule.js';
import type { CompiledRule, RuleCompileOptions, RuleData, RuleSource } from './compiled-rule.js';
import { ruleError, RuleIssueCode } from './rule-issue.js';
import type { RuleIssue } from './rule-issue.js';
import { RuleErrorCode } from './rule-verdict.js';
import type { RuleVerdict } from './rule-verdict.js';
import { didYouMean } from './suggest-name.js';

/** One registered version of a named rule. */
export interface RegisteredRule {
  readonly name: string;
  /** 1, 2, 3, ... in registration order. */
  readonly version: number;
  /** `name@version`: the reference that always means this version. */
  readonly ref: string;
  readonly description: string | undefined;
  readonly rule: CompiledRule;
}

/** The registered version, or the issues that kept the rule out. */
export type RuleRegistration = { ok: true; entry: RegisteredRule } | { ok: false; issues: RuleIssue[] };

/** Names are letters, digits and `_ - . /`, starting with a letter or digit (no `@`: it starts a version). */
const namePattern = /^[A-Za-z0-9][A-Za-z0-9_./-]{0,127}$/;

/** Splits `name` or `name@3`; undefined when the reference is malformed. */
export function parseRuleRef(ref: string): { name: string; version: number | undefined } | undefined {
  const at = ref.lastIndexOf('@');
  const name = at === -1 ? ref : ref.slice(0, at);
  const version = at === -1 ? undefined : ref.slice(at + 1);
  if (!namePattern.test(name)) return undefined;
  if (version === undefined) return { name, version: undefined };
  return /^[1-9]\d{0,8}$/.test(version) ? { name, version: Number(version) } : undefined;
}

/**
 * Named, versioned rules, in memory (the app's RuleService fills it from the rule store). Each registration of a
 * name compiles the rule and, when it compiles, adds a new version; references are `name` (the latest
 * version) or `name@version`. Versions are never replaced, so a workflow pinned to `review-ok@2` keeps
 * its meaning after `review-ok@3` is registered.
 */
export class RuleRegistry {
  private readonly rules = new Map<string, RegisteredRule[]>();

  /** Compiles and registers `source` as the next version of `name`. */
  register(name: string, source: RuleSource, options: RuleCompileOptions & { description?: string }): RuleRegistration {
    if (!namePattern.test(name)) {
      const message = `'${name}' is not a valid rule name: use letters, digits and _ - . / (up to 128 characters, no '@')`;
      return { ok: false, issues: [ruleError(RuleIssueCode.invalidName, message)] };
    }
    const compiled = compileRule(source, options);
    if (!compiled.ok) return { ok: false, issues: compiled.issues };
    const versions = this.rules.get(name) ?? [];
    const version = versions.length + 1;
    const entry: RegisteredRule = { name, version, ref: `${name}@${version}`, description: options.description, rule: compiled.rule };
    this.rules.set(name, [...versions, entry]);
    return { ok: true, entry };
  }

  /** The rule a reference means: `name` → latest version, `name@3` → version 3. */
  get(ref: string): RegisteredRule | undefined {
    const parsed = parseRuleRef(ref);
    if (parsed === undefined) return undefined;
    const versions = this.rules.get(parsed.name);
    if (versions === undefined) return undefined;
    return parsed.version === undefined ? versions.at(-1) : versions[parsed.version - 1];
  }

  /** Every version of `name`, oldest first. */
  versions(name: string): readonly RegisteredRule[] {
    return this.rules.get(name) ?? [];
  }

  /** The registered names, sorted. */
  names(): string[] {
    return [...this.rules.keys()].sort();
  }

  /** Evaluates the referenced rule; an unknown reference is a verdict with an `unknown_rule` error. */
  evaluate(ref: string, data: RuleData, options: { explain?: boolean } = {}): RuleVerdict {
    const entry = this.get(ref);
    if (entry === undefined)
      return { passed: false, value: undefined, error: { code: RuleErrorCode.unknownRule, message: this.describeMissing(ref) } };
    return options.explain === true ? entry.rule.explain(data) : entry.rule.evaluate(data);
  }

  /** Why `ref` resolves to nothing: malformed, no such name (with a did-you-mean), or no such version. */
  describeMissing(ref: string): string {
    const parsed = parseRuleRef(ref);
    if (parsed === undefined) return `'${ref}' is not a rule reference: write 'name' or 'name@version'`;
    const versions = this.rules.get(parsed.name);
    if (versions === undefined) return `no rule named '${parsed.name}'${didYouMean(parsed.name, this.rules.keys())}`;
    return `rule '${parsed.name}' has versions 1 to ${versions.length}, not ${parsed.version}`;
  }
}
