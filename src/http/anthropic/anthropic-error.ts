import type { ServerResponse } from 'node:http';
import type { Logger } from '../../core/logger.js';
import type { Redact } from '../../core/redact.js';
import { mapError } from '../error-mapper.js';

/** Anthropic's error body: `{type: "error", error: {type, message}, request_id}`. */
export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
  request_id: string;
}

export interface MappedAnthropicError {
  status: number;
  body: AnthropicErrorBody;
  headers: Record<string, string>;
}

/**
 * The error types of Anthropic's API by the status the gateway chose. Statuses Anthropic does not use
 * are answered with the closest one it documents: 503 (every provider cooling down, or overloaded)
 * becomes 529 `overloaded_error`, which Anthropic clients back off and retry on; 502 (the provider
 * failed) stays 502 with `api_error`; 402 (a budget is spent) is `billing_error`, the type the SDK
 * raises as `PaymentRequiredError`.
 */
const byStatus: Record<number, { status: number; type: string }> = {
  400: { status: 400, type: 'invalid_request_error' },
  401: { status: 401, type: 'authentication_error' },
  402: { status: 402, type: 'billing_error' },
  403: { status: 403, type: 'permission_error' },
  404: { status: 404, type: 'not_found_error' },
  405: { status: 405, type: 'invalid_request_error' },
  408: { status: 408, type: 'timeout_error' },
  413: { status: 413, type: 'request_too_large' },
  415: { status: 415, type: 'invalid_request_error' },
  429: { status: 429, type: 'rate_limit_error' },
  500: { status: 500, type: 'api_error' },
  502: { status: 502, type: 'api_error' },
  503: { status: 529, type: 'overloaded_error' },
  504: { status: 504, type: 'timeout_error' },
};

/**
 * An error as the Messages API answers it. The gateway's one error mapper decides status, message,
 * logging and headers (`Retry-After`, `x-ratelimit-*`, `x-cb-provider`); this only re-dresses the body
 * in Anthropic's shape and picks Anthropic's status and type. The field at fault, which Anthropic has
 * no slot for, leads the message (`messages[1].content: …`) when the message does not name it already.
 */
export function anthropicError(error: unknown, requestId: string, logger: Logger, redact?: Redact): MappedAnthropicError {
  const mapped = mapError(error, requestId, logger, redact);
  const target = byStatus[mapped.status] ?? { status: mapped.status, type: mapped.status >= 500 ? 'api_error' : 'invalid_request_error' };
  const { message, param } = mapped.body.error;
  const text = param && !message.includes(param) ? `${param}: ${message}` : message;
  return {
    status: target.status,
    headers: { ...mapped.headers, 'request-id': requestId },
    body: { type: 'error', error: { type: target.type, message: text }, request_id: requestId },
  };
}

/** Answers a raw (hijacked) response with the error, unless its headers are already out (then it is cut). */
export function sendRawAnthropicError(
  response: ServerResponse,
  error: unknown,
  requestId: string,
  logger: Logger,
  redact: Redact,
  extraHeaders: Record<string, string> = {},
): void {
  const mapped = anthropicError(error, requestId, logger, redact);
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
