import type { RetryPolicy } from './function-definition.js';

/**
 * The wait before attempt `attempt + 1` after attempt `attempt` (1-based) failed: exponential
 * (`initialDelayMs × multiplierⁿ⁻¹`, capped at `maxDelayMs`) with ± `jitter` of it drawn at random, so
 * many executions failing together do not retry together. `random` is injectable for tests.
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** Math.max(0, attempt - 1));
  const spread = base * policy.jitter;
  return Math.max(0, Math.round(base - spread + random() * 2 * spread));
}

/** Whether a failed attempt with this status may be tried again under the policy. */
export function isRetryable(policy: RetryPolicy | undefined, status: 'failed' | 'timed_out', code: string): boolean {
  if (policy === undefined) return false;
  if (nonRetryableCodes.has(code)) return false;
  return policy.on.includes(status);
}

/** Failures another attempt cannot fix: the input, the output contract, the configuration. */
const nonRetryableCodes = new Set([
  'invalid_input',
  'output_schema',
  'input_mapping',
  'secret_missing',
  'unknown_function',
  'function_disabled',
  'runtime_unavailable',
  'invalid_output',
]);
