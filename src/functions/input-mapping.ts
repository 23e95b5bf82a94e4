export type MappingResult = { ok: true; value: unknown } | { ok: false; message: string };

/**
 * Builds a function's input from `source` with a mapping of destination dotted path → source dotted
 * path (`{ "order.id": "event.data.token.data.orderId" }`). Without a mapping the input is `fallback`.
 * A source path that is not there is an error naming it, never a silent `undefined`. Numeric source
 * segments index lists; only own properties are read (no `__proto__` tricks), and `__proto__`,
 * `constructor` and `prototype` are refused as destination segments.
 */
export function mapInput(mapping: Record<string, string> | undefined, source: Record<string, unknown>, fallback: unknown): MappingResult {
  if (mapping === undefined) return { ok: true, value: fallback };
  const result: Record<string, unknown> = {};
  for (const [destination, from] of Object.entries(mapping)) {
    const found = lookupPath(source, from.split('.'));
    if (!found.found)
      return { ok: false, message: `input mapping '${destination}': '${from}' is not in the data (missing at '${found.missing}')` };
    const segments = destination.split('.');
    if (segments.some((segment) => segment === '' || forbidden.has(segment)))
      return { ok: false, message: `input mapping: '${destination}' is not a usable destination path` };
    let target = result;
    for (const segment of segments.slice(0, -1)) {
      const next = target[segment];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) target[segment] = {};
      target = target[segment] as Record<string, unknown>;
    }
    target[segments[segments.length - 1] as string] = found.value;
  }
  return { ok: true, value: result };
}

const forbidden = new Set(['__proto__', 'constructor', 'prototype']);

/** Reads a dotted path through own properties and list indexes. */
export function lookupPath(
  data: unknown,
  segments: readonly string[],
): { found: true; value: unknown } | { found: false; missing: string } {
  let current = data;
  for (const [index, segment] of segments.entries()) {
    let next: unknown;
    if (Array.isArray(current) && /^(0|[1-9]\d*)$/.test(segment)) next = current[Number(segment)] as unknown;
    else if (typeof current === 'object' && current !== null && !Array.isArray(current) && Object.hasOwn(current, segment))
      next = (current as Record<string, unknown>)[segment];
    if (next === undefined) return { found: false, missing: segments.slice(0, index + 1).join('.') };
    current = next;
  }
  return { found: true, value: current };
}

/** Checks mapping paths when a definition is registered. */
export function mappingIssues(mapping: Record<string, string> | undefined, roots: readonly string[], where: string): string[] {
  if (mapping === undefined) return [];
  const issues: string[] = [];
  for (const [destination, from] of Object.entries(mapping)) {
    if (destination.split('.').some((segment) => segment === '' || forbidden.has(segment)))
      issues.push(`${where}: '${destination}' is not a usable destination path`);
    const root = from.split('.')[0] ?? '';
    if (!roots.includes(root)) issues.push(`${where}: '${from}' must start with ${roots.map((name) => `'${name}.'`).join(' or ')}`);
  }
  return issues;
}
