import type { ServerResponse } from 'node:http';
import { ErrorCode, GatewayError } from '../core/errors.js';
import type { Abortable } from '../core/request-abort.js';

/** The reason an abort carries when the client went away (status 499): mapped and metered as such, never logged as unexpected. */
export function clientClosedError(): GatewayError {
  return new GatewayError(ErrorCode.invalidRequest, 'The client closed the connection.', { status: 499 });
}

/**
 * Aborts `abort` if the client closes the connection before the answer was written. An answer that was
 * written completely aborts nothing (and builds no error object): the common case costs one listener.
 */
export function abortOnClientClose(response: ServerResponse, abort: Abortable): void {
  response.once('close', () => {
    if (!response.writableFinished) abort.abort(clientClosedError());
  });
}
