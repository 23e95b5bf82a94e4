import { ErrorCode, ProviderError } from '../../core/errors.js';
import { readRetryAfter } from './retry-after.js';

export interface UpstreamFailure {
  provider: string;
  status: number;
  /** The upstream's own error message, extracted by the adapter from its error body. */
  message: string;
  headers: Record<string, string | string[] | undefined>;
  /** Set by the adapter when the provider says the prompt is longer than the model's context. */
  contextLength?: boolean;
}

/**
 * Maps an upstream's non-2xx answer to a `ProviderError`: what the client sees, and whether another
 * deployment may succeed (`isRetryable`). Rules: 429, 408, 409, 5xx and 529 are retryable; 400, 404 and
 * 422 are the request's fault and pass through with the provider's message; 401/403 mean the gateway's
 * configured key is wrong, which is the operator's problem, so the client gets 502 (its own key was fine).
 */
export function upstreamFailure(failure: UpstreamFailure): ProviderError {
  const { provider, status, headers } = failure;
  const upstreamMessage = failure.message.slice(0, 2000);
  const base = { provider, upstreamStatus: status, upstreamMessage };
  const said = upstreamMessage ? `: ${upstreamMessage}` : '.';
  if (failure.contextLength) {
    return new ProviderError(
      ErrorCode.contextLengthExceeded,
      `The prompt is longer than the model's context window at provider '${provider}'${said}`,
      { ...base, status: 400, param: 'messages' },
    );
  }
  if (status === 429) {
    return new ProviderError(ErrorCode.upstreamRateLimited, `Provider '${provider}' is rate limiting requests${said}`, {
      ...base,
      status: 429,
      isRetryable: true,
      ...retryAfterOf(headers),
    });
  }
  if (status === 401 || status === 403) {
    return new ProviderError(
      ErrorCode.upstreamAuthentication,
      `Provider '${provider}' rejected the gateway's API key for it (${status}); check the key configured for this provider${said}`,
      { ...base, status: 502 },
    );
  }
  if (status === 400 || status === 404 || status === 413 || status === 422) {
    return new ProviderError(ErrorCode.invalidRequest, `Provider '${provider}' refused the request${said}`, {
      ...base,
      status: status === 413 ? 413 : status === 404 ? 404 : 400,
    });
  }
  if (status === 408 || status === 504) {
    return new ProviderError(ErrorCode.upstreamTimeout, `Provider '${provider}' timed out (${status})${said}`, {
      ...base,
      status: 504,
      isRetryable: true,
    });
  }
  return new ProviderError(ErrorCode.upstreamError, `Provider '${provider}' failed with status ${status}${said}`, {
    ...base,
    status: status === 503 || status === 529 ? 503 : 502,
    isRetryable: status >= 500 || status === 409 || status === 529,
    ...retryAfterOf(headers),
  });
}

/** `Retry-After` as the error carries it: a delay, or (HTTP-date form) the absolute time, read against a clock later. */
function retryAfterOf(headers: UpstreamFailure['headers']): { retryAfterMs?: number; retryAt?: number } {
  const read = readRetryAfter(headers);
  if (read === undefined) return {};
  return 'delayMs' in read ? { retryAfterMs: read.delayMs } : { retryAt: read.at };
}

/** The upstream sent something that is not what its API promises (broken JSON, missing fields). */
export function malformedUpstream(provider: string, detail: string, cause?: unknown): ProviderError {
  return new ProviderError(ErrorCode.upstreamMalformed, `Provider '${provider}' sent a malformed response: ${detail}`, {
    status: 502,
    provider,
    isRetryable: true,
    cause,
  });
}

/** Extracts a human message from a JSON error body (`{error:{message}}`, `{error:"…"}`, `{message}`), else the raw text. */
export function errorMessageOf(bodyText: string): string {
  try {
    const body = JSON.parse(bodyText) as unknown;
    if (body && typeof body === 'object') {
      const record = body as Record<string, unknown>;
      const error = record['error'];
      if (typeof error === 'string') return error;
      if (error && typeof error === 'object') {
        const message = (error as Record<string, unknown>)['message'];
        if (typeof message === 'string') return message;
      }
      if (typeof record['message'] === 'string') return record['message'];
    }
  } catch {
    // not JSON: fall through to the text itself
  }
  return bodyText.trim().slice(0, 500);
}
