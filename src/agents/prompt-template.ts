import { editDistance } from '../core/edit-distance.js';

/**
 * `{placeholder}` templates for agent prompts.
 *
 * A placeholder is a dotted path in braces: `{topic}`, `{review.score}`, `{items.0}`, optionally with
 * an explicit root — `{data.topic}` (the token's data), `{metadata.source}` (the token's metadata),
 * `{variables.audience}` (the instance's variables). A bare path is looked up in the data, then the
 * variables, then the metadata. `{{` and `}}` write literal braces; braces around anything that is not
 * a path (`{"a": 1}`) are left as written, so JSON examples in prompts need no escaping. Strings are
 * inserted as they are, other values as JSON. A path that resolves to nothing is an error naming it —
 * never an empty string.
 */

export interface TemplateScope {
  data: unknown;
  metadata?: unknown;
  variables?: unknown;
}

const placeholder = /\{\{|\}\}|\{\s*([A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*)\s*\}/g;
const roots = ['data', 'metadata', 'variables'] as const;

/** The placeholder paths a template uses, in order of first use. */
export function placeholdersOf(template: string): string[] {
  const names = new Set<string>();
  for (const match of template.matchAll(placeholder)) if (match[1] !== undefined) names.add(match[1]);
  return [...names];
}

/** A template that could not be filled: the paths that resolve to nothing, and a message that names them. */
export interface MissingVariables {
  missing: string[];
  message: string;
}

/** Fills a template, or reports every missing variable. */
export function renderTemplate(template: string, scope: TemplateScope): { text: string } | MissingVariables {
  const missing: string[] = [];
  const text = template.replace(placeholder, (whole, path: string | undefined) => {
    if (whole === '{{') return '{';
    if (whole === '}}') return '}';
    const value = lookup(scope, path as string);
    if (value === undefined) {
      if (!missing.includes(path as string)) missing.push(path as string);
      return whole;
    }
    return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  });
  if (missing.length === 0) return { text };
  return { missing, message: missingMessage(missing, scope) };
}

/** The value at a placeholder path, or undefined when nothing is there. */
export function lookup(scope: TemplateScope, path: string): unknown {
  const segments = path.split('.');
  const first = segments[0] as string;
  if ((roots as readonly string[]).includes(first) && segments.length > 1)
    return walk(scope[first as (typeof roots)[number]], segments.slice(1));
  for (const root of roots) {
    const value = walk(scope[root], segments);
    if (value !== undefined) return value;
  }
  return undefined;
}

function walk(value: unknown, segments: readonly string[]): unknown {
  let current = value;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(segment)) return undefined;
      current = current[Number(segment)];
    } else {
      if (!Object.hasOwn(current, segment)) return undefined;
      current = (current as Record<string, unknown>)[segment];
    }
  }
  return current;
}

function missingMessage(missing: readonly string[], scope: TemplateScope): string {
  const available = roots.flatMap((root) => keysOf(scope[root]).map((key) => ({ root, key })));
  const names = missing.map((path) => `{${path}}`).join(', ');
  const parts = [
    `the template needs ${names}, which ${missing.length === 1 ? 'is' : 'are'} not in the token's data, metadata or the instance variables`,
  ];
  for (const root of roots) {
    const keys = keysOf(scope[root]);
    if (keys.length > 0) parts.push(`${root} has ${keys.slice(0, 20).join(', ')}${keys.length > 20 ? ', …' : ''}`);
  }
  for (const path of missing) {
    const head = path.split('.')[0] as string;
    const close = available.filter(({ key }) => key !== head && editDistance(key, head) <= Math.max(1, Math.floor(head.length / 3)));
    if (close[0]) parts.push(`did you mean {${close[0].key}} for {${path}}?`);
  }
  return parts.join('; ');
}

function keysOf(value: unknown): string[] {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value) : [];
}
