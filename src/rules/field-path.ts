/**
 * Dotted paths into rule data: `data.review.score`, `items.0.name` (a numeric segment indexes a list).
 * Only own properties are followed, so `__proto__` or `constructor` are never reached through a path.
 */

export interface FieldPath {
  readonly text: string;
  readonly segments: readonly string[];
}

/** The outcome of reading a path: the value, or where the path stopped. */
export type PathLookup = { found: true; value: unknown } | { found: false; missing: string };

/** Splits and checks a dotted path; returns a message when it is malformed. */
export function parseFieldPath(text: string): FieldPath | string {
  if (text.trim() === '') return 'the field path is empty';
  const segments = text.split('.');
  const emptyAt = segments.findIndex((segment) => segment.trim() === '');
  if (emptyAt !== -1)
    return `the field path '${text}' has an empty segment (at position ${emptyAt + 1}); write segments joined by single dots`;
  if (segments.some((segment) => segment !== segment.trim())) return `the field path '${text}' has spaces around a segment`;
  return { text, segments };
}

/** Reads `segments` from `data`, following objects (own keys) and lists (numeric segments). */
export function lookupPath(data: unknown, segments: readonly string[]): PathLookup {
  let current = data;
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index] as string;
    const next = step(current, segment);
    if (next === notFound) return { found: false, missing: segments.slice(0, index + 1).join('.') };
    current = next;
  }
  return { found: true, value: current };
}

const notFound: unique symbol = Symbol('not found');

function step(container: unknown, segment: string): unknown {
  if (Array.isArray(container)) {
    if (!/^(0|[1-9]\d*)$/.test(segment)) return notFound;
    const index = Number(segment);
    return index < container.length ? (container[index] as unknown) : notFound;
  }
  if (container instanceof Map) return container.has(segment) ? (container.get(segment) as unknown) : notFound;
  if (typeof container === 'object' && container !== null && Object.hasOwn(container, segment)) {
    const value = (container as Record<string, unknown>)[segment];
    return value === undefined ? notFound : value;
  }
  return notFound;
}
