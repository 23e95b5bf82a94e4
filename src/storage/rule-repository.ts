/**
 * Named, versioned rules (docs/rules.md, "Stored rules"). Each save of a name adds the next version
 * (1, 2, 3, …); a stored version never changes, so a guard pinned to `review-ok@2` keeps its meaning.
 */

/** The rule as written: a CEL expression, or the structured JSON form. */
export type StoredRuleBody = string | Record<string, unknown>;

export interface StoredRule {
  name: string;
  version: number;
  rule: StoredRuleBody;
  description: string | null;
  createdAt: number;
}

export interface RuleRepository {
  /**
   * Stores `rule` as the next version of `name` (version 1 when the name is new) and answers the
   * stored record. Two concurrent saves of one name get two different versions.
   */
  addVersion(input: { name: string; rule: StoredRuleBody; description: string | null; createdAt: number }): Promise<StoredRule>;
  /** The given version, or the latest one when `version` is omitted. */
  get(name: string, version?: number): Promise<StoredRule | undefined>;
  /** Every version of `name`, oldest first (empty when there is no such rule). */
  versions(name: string): Promise<StoredRule[]>;
  /** Every version of every rule, by name then version. */
  listAll(): Promise<StoredRule[]>;
}
