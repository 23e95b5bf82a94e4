import type { ServerResponse } from 'node:http';
import { ErrorCode, GatewayError, ProviderError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { noRedaction } from '../core/redact.js';
import type { Redact } from '../core/redact.js';

/** OpenAI's error body. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface MappedError {
  status: number;
  body: OpenAIErrorBody;
  headers: Record<string, string>;
}

const typeByStatus: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'insufficient_quota',
  403: 'permission_error',
  404: 'not_found_error',
  405: 'invalid_request_error',
  408: 'timeout_error',
  409: 'conflict_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
  422: 'invalid_request_error',
  429: 'rate_limit_error',
  502: 'upstream_error',
  503: 'service_unavailable_error',
  504: 'timeout_error',
};

/**
 * The one place an error becomes an HTTP answer: OpenAI's `{error: {message, type, param, code}}` with
 * the right status and `Retry-After` where a wait helps. Unknown errors are logged with the request id
 * and answered with a 500 that says so, never with their internals.
 */
export function mapError(error: unknown, requestId: string, logger: Logger, redact: Redact = noRedaction): MappedError {
  const framework = frameworkError(error);
  if (framework) return framework;
  if (error instanceof GatewayError) {
    const headers: Record<string, string> = { ...error.headers };
    // An HTTP-date Retry-After that routing did not turn into a delay is read against the wall clock here, at the edge.
    const retryAfterMs =
      error.retryAfterMs ?? (error instanceof ProviderError && error.retryAt !== undefined ? error.retryAt - Date.now() : undefined);
    if (retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    if (error instanceof ProviderError) headers['x-cb-provider'] = error.provider;
    if (error.status >= 500) logger.warn('request failed', { requestId, code: error.code, status: error.status, message: error.message });
    return {
      status: error.status,
      headers,
      body: {
        error: {
          message: redact(error.message),
          type: typeByStatus[error.status] ?? 'api_error',
          param: error.param ?? null,
          code: error.code,
        },
      },
    };
  }
  logger.error('unexpected error', {
    requestId,
    error: error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error),
  });
  return {
    status: 500,
    headers: {},
    body: {
      error: {
        message: `The gateway failed unexpectedly while handling this request (request id ${requestId}); the server log has the details.`,
        type: 'api_error',
        param: null,
        code: ErrorCode.internal,
      },
    },
  };
}

/** Fastify's own errors (body parsing, size, media type) as the client-facing 4xx they are. */
function frameworkError(error: unknown): MappedError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('FST_')) {
    if (error instanceof SyntaxError)
      return clientError(400, ErrorCode.invalidJson, `The request body is not valid JSON: ${error.message}.`);
    return undefined;
  }
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return clientError(
        413,
        ErrorCode.bodyTooLarge,
        'The request body is larger than this server accepts (server.body_limit / CB_BODY_LIMIT); send a smaller request.',
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return clientError(415, ErrorCode.unsupportedMediaType, 'Send the body as JSON with `Content-Type: application/json`.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return clientError(400, ErrorCode.invalidJson, 'The request body is empty; send a JSON object.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return clientError(400, ErrorCode.invalidJson, `The request body is not valid JSON (${(error as Error).message}).`);
    default: {
      const status = (error as { statusCode?: number }).statusCode ?? 400;
      if (status >= 500) return undefined;
      return clientError(status, ErrorCode.invalidRequest, (error as Error).message);
    }
  }
}

function clientError(status: number, code: string, message: string): MappedError {
  return { status, headers: {}, body: { error: { message, type: typeByStatus[status] ?? 'invalid_request_error', param: null, code } } };
}

/** Answers a raw response with the mapped error (for routes that took the response over from the framework). */
export function sendRawError(
  response: ServerResponse,
  error: unknown,
  requestId: string,
  logger: Logger,
  redact: Redact = noRedaction,
  extraHeaders: Record<string, string> = {},
): void {
  const mapped = mapError(error, requestId, logger, redact);
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.writeHead(mapped.status, {
    'content-type': 'application/json; charset=utf-8',
    'x-request-id': requestId,
    ...extraHeaders,
    ...mapped.headers,
  });
  response.end(JSON.stringify(mapped.body));
}
