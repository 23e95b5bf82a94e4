import type { StreamDispatch } from '../../app/chat-service.js';

/**
 * The `x-cb-*` headers that say where a request went (`x-request-id` is set for every response):
 * `x-cb-provider`, `x-cb-model` (the model that answered), `x-cb-attempts`, `x-cb-attempt-errors` (why
 * earlier attempts failed, when there were any), `x-cb-warnings`, and `x-cb-overhead-ms`: the gateway's
 * own time since the body was parsed, minus the time spent waiting on upstreams.
 */
export function dispatchHeaders(dispatched: StreamDispatch, answeringModel: string | undefined, started: number): Record<string, string> {
  const headers: Record<string, string> = {
    'x-cb-attempts': String(dispatched.attempts),
    'x-cb-overhead-ms': Math.max(0, performance.now() - started - dispatched.upstreamMs).toFixed(2),
  };
  if (dispatched.deployment) headers['x-cb-provider'] = dispatched.deployment.provider;
  const model = answeringModel ?? dispatched.deployment?.model.id;
  if (model) headers['x-cb-model'] = headerSafe(model);
  const failures = dispatched.attemptLog.filter((attempt) => attempt.outcome !== 'ok');
  if (failures.length > 0)
    headers['x-cb-attempt-errors'] = headerSafe(
      failures.map((attempt) => `${attempt.provider}/${attempt.model}: ${attempt.outcome}`).join(' | '),
    );
  if (dispatched.warnings.length > 0) headers['x-cb-warnings'] = headerSafe(dispatched.warnings.join(' | '));
  return headers;
}

/** Header values must be visible ASCII: anything else becomes '?', and the value is capped at 4 KB. */
function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?').slice(0, 4096);
}
