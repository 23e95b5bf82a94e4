import { ErrorCode } from '../core/errors.js';
import { BoundedLabel } from './bounded-label.js';

/** Who a failed request's error is down to: the client (fix the request) or the server side (gateway or upstream). */
export type ErrorFault = 'client' | 'server';

/**
 * Every error code, classified. Exhaustive on purpose: a new `ErrorCode` does not compile until it is
 * placed here, so the error-rate alert (`fault="server"`) never silently miscounts it.
 */
const faultByCode: Record<ErrorCode, ErrorFault> = {
  [ErrorCode.invalidRequest]: 'client',
  [ErrorCode.invalidJson]: 'client',
  [ErrorCode.bodyTooLarge]: 'client',
  [ErrorCode.unsupportedMediaType]: 'client',
  [ErrorCode.unknownModel]: 'client',
  [ErrorCode.unsupportedParameter]: 'client',
  [ErrorCode.contextLengthExceeded]: 'client',
  [ErrorCode.authentication]: 'client',
  [ErrorCode.permission]: 'client',
  [ErrorCode.notFound]: 'client',
  [ErrorCode.methodNotAllowed]: 'client',
  [ErrorCode.queryTooComplex]: 'client',
  [ErrorCode.slowConsumer]: 'client',
  [ErrorCode.rateLimited]: 'client',
  [ErrorCode.budgetExhausted]: 'client',
  [ErrorCode.upstreamError]: 'server',
  [ErrorCode.upstreamAuthentication]: 'server',
  [ErrorCode.upstreamTimeout]: 'server',
  [ErrorCode.upstreamUnavailable]: 'server',
  [ErrorCode.upstreamMalformed]: 'server',
  [ErrorCode.upstreamRateLimited]: 'server',
  [ErrorCode.noProvider]: 'server',
  [ErrorCode.notReady]: 'server',
  [ErrorCode.configInvalid]: 'server',
  [ErrorCode.internal]: 'server',
  [ErrorCode.revisionConflict]: 'client',
  [ErrorCode.transitionNotEnabled]: 'client',
  [ErrorCode.guardFailed]: 'client',
  [ErrorCode.workflowInvalid]: 'client',
  [ErrorCode.alreadyExists]: 'client',
};

const knownCodes = new Map<string, ErrorFault>(Object.entries(faultByCode));

/** A closed label over the `ErrorCode` values (and `extra` ones, such as `ok`): anything else is recorded as `other`. */
export function errorCodeLabel(extra: readonly string[] = []): BoundedLabel {
  return BoundedLabel.closed([...knownCodes.keys(), ...extra]);
}

/**
 * The fault of a failed request. Known codes use the table above; an unknown or missing code is decided
 * by the HTTP status (4xx client, anything else server), so a failure never goes uncounted.
 */
export function errorFault(code: string | undefined, status: number): ErrorFault {
  const known = code === undefined ? undefined : knownCodes.get(code);
  if (known) return known;
  return status >= 400 && status < 500 ? 'client' : 'server';
}
