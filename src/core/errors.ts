/**
 * The gateway's errors: one base class with a string `code`, an HTTP status hint, `isRetryable` and a
 * `cause`. Each front door maps them once (`http/error-mapper.ts`); a client never sees a bare 500 for a
 * known failure. Messages are written for the user: they say what went wrong and what to do, and never
 * contain a secret.
 */

export const ErrorCode = {
  invalidRequest: 'invalid_request',
  invalidJson: 'invalid_json',
  bodyTooLarge: 'body_too_large',
  unsupportedMediaType: 'unsupported_media_type',
  unknownModel: 'model_not_found',
  unsupportedParameter: 'unsupported_parameter',
  contextLengthExceeded: 'context_length_exceeded',
  authentication: 'invalid_api_key',
  permission: 'permission_denied',
  notFound: 'not_found',
  methodNotAllowed: 'method_not_allowed',
  /** A GraphQL operation past the depth or cost limit. */
  queryTooComplex: 'query_too_complex',
  /** A streaming client that reads too slowly: the server would otherwise buffer without bound. */
  slowConsumer: 'slow_consumer',
  rateLimited: 'rate_limit_exceeded',
  budgetExhausted: 'budget_exhausted',
  upstreamError: 'upstream_error',
  upstreamAuthentication: 'upstream_authentication_failed',
  upstreamTimeout: 'upstream_timeout',
  upstreamUnavailable: 'upstream_unavailable',
  upstreamMalformed: 'upstream_malformed_response',
  upstreamRateLimited: 'upstream_rate_limited',
  noProvider: 'no_provider_available',
  notReady: 'not_ready',
  configInvalid: 'config_invalid',
  internal: 'internal_error',
  /** Workflows: a change was computed from a revision that has moved on (409). */
  revisionConflict: 'revision_conflict',
  /** Workflows: the marking, trigger or instance state does not let the transition fire now (409). */
  transitionNotEnabled: 'transition_not_enabled',
  /** Workflows: the transition's guard refused the firing (422; the explanation says why). */
  guardFailed: 'guard_failed',
  /** Workflows: the definition has analysis errors, or data does not match a place's schema (422). */
  workflowInvalid: 'workflow_invalid',
  /** A resource that already exists (409). */
  alreadyExists: 'already_exists',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface GatewayErrorOptions {
  status: number;
  /** The request field at fault, in OpenAI's `param` style (`messages[2].content`). */
  param?: string;
  isRetryable?: boolean;
  cause?: unknown;
  /** Milliseconds the client should wait before retrying (sent as `Retry-After`). */
  retryAfterMs?: number;
  /** Extra response headers the answer should carry (`x-ratelimit-*` on a 429). */
  headers?: Record<string, string>;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly param: string | undefined;
  readonly isRetryable: boolean;
  readonly retryAfterMs: number | undefined;
  /** Extra response headers; front doors that speak HTTP send them with the error. */
  headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = options.status;
    this.param = options.param;
    this.isRetryable = options.isRetryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
    this.headers = options.headers ?? {};
  }
}

/** A request the client must fix (400 unless said otherwise). */
export function invalidRequest(message: string, param?: string, code: ErrorCode = ErrorCode.invalidRequest) {
  return new GatewayError(code, message, { status: 400, ...(param === undefined ? {} : { param }) });
}

export interface ProviderErrorOptions extends GatewayErrorOptions {
  provider: string;
  /** The upstream's HTTP status, when it answered. */
  upstreamStatus?: number;
  /** The upstream's own error message (never its headers, never a key). */
  upstreamMessage?: string;
  /**
   * Epoch ms the upstream named in an HTTP-date `Retry-After`. Kept absolute so whoever holds the clock
   * (routing, the HTTP edge) turns it into a delay; `retryAfterMs` is set instead for the seconds form.
   */
  retryAt?: number;
}

/** A failure of an upstream provider call: its status, its message, and whether another try may succeed. */
export class ProviderError extends GatewayError {
  readonly provider: string;
  readonly upstreamStatus: number | undefined;
  readonly upstreamMessage: string | undefined;
  readonly retryAt: number | undefined;

  constructor(code: ErrorCode, message: string, options: ProviderErrorOptions) {
    super(code, message, options);
    this.name = 'ProviderError';
    this.provider = options.provider;
    this.upstreamStatus = options.upstreamStatus;
    this.upstreamMessage = options.upstreamMessage;
    this.retryAt = options.retryAt;
  }
}

/** A configuration file or environment problem: where (file and path) and what was expected. */
export class ConfigError extends GatewayError {
  readonly issues: readonly string[];
  constructor(message: string, issues: readonly string[] = []) {
    super(ErrorCode.configInvalid, message, { status: 500 });
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export function isGatewayError(error: unknown): error is GatewayError {
  return error instanceof GatewayError;
}
