import type { JsonObject } from './workflow-instance.js';

/** True for a plain object (not an array, not null). */
export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Deep-merges token data left to right: nested objects are merged, anything else (arrays included) is
 * replaced by the later value. This is how a join combines its input tokens (`review` from one branch,
 * `security` from the other) and how an action's output lands in the output tokens.
 */
export function mergeData(...sources: readonly (JsonObject | undefined)[]): JsonObject {
  const result: JsonObject = {};
  for (const source of sources) if (source) mergeInto(result, source);
  return result;
}

function mergeInto(target: JsonObject, source: JsonObject): void {
  for (const [key, value] of Object.entries(source)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
    const current = target[key];
    if (isPlainObject(value) && isPlainObject(current)) {
      const copy = { ...current };
      mergeInto(copy, value);
      target[key] = copy;
    } else {
      target[key] = isPlainObject(value) ? mergeData(value) : value;
    }
  }
}
