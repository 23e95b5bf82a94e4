/**
 * The seed's cost-rule conditions are SQL-like: `token_count < 500 AND complexity = 'low'`,
 * `model = 'gpt-4' AND cost_today > $100`, `request_size < 100_tokens`. This reads them as CEL:
 *
 * | legacy                     | CEL            |
 * | -------------------------- | -------------- |
 * | `AND`, `OR`, `NOT`         | `&&`, `\|\|`, `!` |
 * | `=`                        | `==`           |
 * | `<>`                       | `!=`           |
 * | `IS NULL`, `IS NOT NULL`   | `== null`, `!= null` |
 * | `TRUE`, `FALSE`, `NULL`    | `true`, `false`, `null` |
 * | `$100`, `$0.50`            | `100`, `0.50`  |
 * | `100_tokens` (a unit)      | `100`          |
 * | `'it''s'` (SQL quote)      | `'it\'s'`      |
 *
 * Keywords are matched whole-word and case-insensitively, and nothing inside a string literal changes.
 * It is applied only to text that is not valid CEL (see `cel-compile.ts`), and its result is compiled
 * and checked like any other expression.
 */

export interface LegacyTranslation {
  /** The CEL text. */
  text: string;
  /** What was rewritten, for the warning (`AND → &&`, `$100 → 100`). */
  changes: string[];
}

const rewrites: readonly {
  pattern: RegExp;
  replace: string | ((match: string, ...groups: string[]) => string);
  label: (match: string) => string;
}[] = [
  { pattern: /\bIS\s+NOT\s+NULL\b/gi, replace: '!= null', label: () => 'IS NOT NULL → != null' },
  { pattern: /\bIS\s+NULL\b/gi, replace: '== null', label: () => 'IS NULL → == null' },
  { pattern: /<>/g, replace: '!=', label: () => '<> → !=' },
  { pattern: /(?<![=!<>])=(?!=)/g, replace: '==', label: () => '= → ==' },
  { pattern: /\bAND\b/gi, replace: '&&', label: (match) => `${match} → &&` },
  { pattern: /\bOR\b/gi, replace: '||', label: (match) => `${match} → ||` },
  { pattern: /\bNOT\b\s*/gi, replace: '!', label: (match) => `${match.trim()} → !` },
  { pattern: /\b(TRUE|FALSE|NULL)\b/g, replace: (match) => match.toLowerCase(), label: (match) => `${match} → ${match.toLowerCase()}` },
  { pattern: /\$(\d+(?:\.\d+)?)\b/g, replace: (_match, amount = '') => amount, label: (match) => `${match} → ${match.slice(1)}` },
  {
    pattern: /\b(\d+(?:\.\d+)?)_[A-Za-z]\w*\b/g,
    replace: (_match, amount = '') => amount,
    label: (match) => `${match} → ${match.split('_')[0] ?? match}`,
  },
];

/** The CEL reading of a legacy condition, or undefined when there is nothing legacy in it. */
export function translateLegacyCondition(text: string): LegacyTranslation | undefined {
  const changes = new Set<string>();
  let result = '';
  let index = 0;
  while (index < text.length) {
    const quote = text[index];
    if (quote === "'" || quote === '"') {
      const end = stringEnd(text, index);
      const literal = text.slice(index, end);
      const fixed = quote === "'" ? literal.replace(/(?<=.)''(?=.)/g, "\\'") : literal;
      if (fixed !== literal) changes.add(`'' → \\'`);
      result += fixed;
      index = end;
      continue;
    }
    let next = index;
    while (next < text.length && text[next] !== "'" && text[next] !== '"') next++;
    result += rewriteCode(text.slice(index, next), changes);
    index = next;
  }
  return result === text ? undefined : { text: result, changes: [...changes] };
}

function rewriteCode(code: string, changes: Set<string>): string {
  let result = code;
  for (const { pattern, replace, label } of rewrites) {
    result = result.replace(pattern, (match: string, ...groups: unknown[]) => {
      changes.add(label(match));
      return typeof replace === 'string'
        ? replace
        : replace(match, ...groups.filter((group): group is string => typeof group === 'string'));
    });
  }
  return result;
}

/** The index just past the string literal starting at `start` (backslash escapes and SQL's `''`). */
function stringEnd(text: string, start: number): number {
  const quote = text[start];
  let index = start + 1;
  while (index < text.length) {
    const char = text[index];
    if (char === '\\') index += 2;
    else if (char === quote && quote === "'" && text[index + 1] === "'") index += 2;
    else if (char === quote) return index + 1;
    else index++;
  }
  return text.length;
}
