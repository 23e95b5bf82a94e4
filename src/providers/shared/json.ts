import { malformedUpstream } from './upstream-error.js';

/** Parses an upstream JSON text, or throws a retryable "malformed response" error naming the provider. */
export function parseUpstreamJson(provider: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw malformedUpstream(provider, `invalid JSON (${text.length} bytes: ${JSON.stringify(text.slice(0, 80))}…)`, error);
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
