import type { ActionSpec } from '../engine/workflow-definition.js';
import { didYouMean } from '../rules/suggest-name.js';

/**
 * The publish-time check of a `function` action, for the engine analysis's `checkAction` hook: the
 * named function must be registered (with a did-you-mean when a registered name is close); an inline
 * function spec is refused, since functions run only as registered, versioned definitions.
 */
export function checkFunctionAction(action: Exclude<ActionSpec, 'none'>, known: ReadonlySet<string>): string[] {
  if (!('function' in action)) return [];
  const target = action.function;
  if (typeof target === 'string') {
    if (known.has(target)) return [];
    return [`function '${target}' is not registered${didYouMean(target, known)} (POST /api/v1/functions registers one)`];
  }
  const name = typeof target['name'] === 'string' ? ` ('${target['name']}')` : '';
  return [
    `an inline function${name} is not supported: register it with POST /api/v1/functions (or 'circuit-breaker' config), then write action: { function: '<name>' }`,
  ];
}
