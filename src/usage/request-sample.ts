import type { Usage } from '../core/usage.js';

/** Token counts of one request, by the classes `cb_tokens_total{type}` counts. */
export interface TokenSample {
  prompt: number;
  completion: number;
  /** Prompt tokens read from the provider's cache (a part of `prompt`, not on top of it). */
  cached?: number;
  /** Reasoning tokens (a part of `completion`). */
  reasoning?: number;
}

/** One upstream call made for a request: a fallback or a retry makes several. */
export interface AttemptSample {
  provider: string;
  /** `ok`, or the `ErrorCode` the attempt failed with. */
  outcome: string;
}

/**
 * What the request path reports once per finished request (success, error, or stream cut), passed to
 * `GatewayMetrics.requestFinished`. Times are milliseconds; the metrics are exposed in seconds.
 */
export interface RequestSample {
  /** A fixed route name such as `chat_completions` or `embeddings`; never a URL path. */
  endpoint: string;
  /** The provider that served (or last failed); absent when none was chosen. */
  provider?: string;
  /** The catalog model that served, else the model the client asked for. */
  model?: string;
  /** The HTTP status sent to the client (200 for a stream that failed after its first byte). */
  status: number;
  /** The `ErrorCode` when the request failed, including a stream that failed after its commit point. */
  code?: string;
  stream: boolean;
  /** Whole request, from the body parsed to the last byte sent. */
  durationMs: number;
  /** Time to the first content byte of a stream. */
  ttftMs?: number;
  /** The gateway's own time: `durationMs` minus the time spent waiting on upstreams. */
  overheadMs: number;
  usage?: TokenSample;
  costUsd?: number;
  attempts: readonly AttemptSample[];
}

/** The token sample of the gateway's `Usage` (cache writes are counted in `prompt` only). */
export function tokenSample(usage: Usage): TokenSample {
  const sample: TokenSample = { prompt: usage.promptTokens, completion: usage.completionTokens };
  if (usage.cachedTokens !== undefined) sample.cached = usage.cachedTokens;
  if (usage.reasoningTokens !== undefined) sample.reasoning = usage.reasoningTokens;
  return sample;
}
