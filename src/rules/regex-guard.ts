import { re2Library } from './cel-library.js';

/**
 * Regular expressions for `matches`, in both rule forms, run on RE2 (`@bufbuild/re2`, the engine CEL's
 * own `matches()` uses): matching time is linear in the input, so no pattern can backtrack
 * catastrophically. Patterns are also capped in length, and compiled ones are cached (bounded) so a
 * pattern built at run time is not recompiled on every request.
 */

/** Longest pattern accepted, in characters. */
export const maxRegexLength = 1000;

/** Compiled patterns kept for reuse; the cache is cleared when it fills. */
const maxCachedPatterns = 500;

/** A compiled pattern. */
export interface RegexMatcher {
  /** True when the pattern matches anywhere in `text` (anchor with `^`/`$` for a full match). */
  test(text: string): boolean;
}

const cache = new Map<string, RegexMatcher>();

/** Compiles an RE2 pattern, or says why it cannot be used. */
export function compileRegex(pattern: string): { ok: true; matcher: RegexMatcher } | { ok: false; message: string } {
  if (pattern.length > maxRegexLength) {
    return { ok: false, message: `the regular expression is ${pattern.length} characters long; the limit is ${maxRegexLength}` };
  }
  const cached = cache.get(pattern);
  if (cached !== undefined) return { ok: true, matcher: cached };
  try {
    const compiled = re2Library().RE2JS.compile(pattern);
    const matcher: RegexMatcher = { test: (text) => compiled.test(text) };
    if (cache.size >= maxCachedPatterns) cache.clear();
    cache.set(pattern, matcher);
    return { ok: true, matcher };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, message: `'${pattern}' is not a valid RE2 regular expression (${reason})` };
  }
}

/** The engine handed to the CEL environment: same limits and cache; a bad pattern is a CEL error value. */
export const celRegexEngine = {
  compile(pattern: string): RegexMatcher {
    const compiled = compileRegex(pattern);
    if (!compiled.ok) throw new Error(compiled.message);
    return compiled.matcher;
  },
};
