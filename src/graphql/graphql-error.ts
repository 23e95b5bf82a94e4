import { GraphQLError } from 'graphql';
import { ErrorCode, GatewayError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Redact } from '../core/redact.js';

/** The `extensions` every GraphQL error carries: one of the gateway's error codes, and what helps a client act on it. */
export interface GatewayErrorExtensions {
  code: string;
  /** The HTTP status the same failure gets on the REST routes. */
  status: number;
  param?: string;
  retryAfterMs?: number;
  requestId?: string;
}

/** Marks a validation error as a refused query shape (depth, cost), so the mapper gives it `query_too_complex`. */
export function markTooComplex(error: GraphQLError): void {
  (error.extensions as Record<string, unknown>)['code'] = ErrorCode.queryTooComplex;
}

/**
 * The one place an error becomes a GraphQL error, for every transport (HTTP, SSE, graphql-ws):
 * a `GatewayError` keeps its message (redacted) and code; GraphQL's own errors (syntax, validation,
 * bad variables) become `invalid_request` unless a limit marked them; anything else is logged with the
 * request id and answered with `internal_error` and no internals.
 */
export function toGraphQLError(error: unknown, requestId: string, logger: Logger, redact: Redact): GraphQLError {
  const original = error instanceof GraphQLError ? (error.originalError ?? undefined) : error;
  const graphql = error instanceof GraphQLError ? error : undefined;
  const at = graphql ? { nodes: graphql.nodes, source: graphql.source, positions: graphql.positions, path: graphql.path } : {};
  if (original instanceof GatewayError) {
    const extensions: GatewayErrorExtensions = { code: original.code, status: original.status, requestId };
    if (original.param !== undefined) extensions.param = original.param;
    if (original.retryAfterMs !== undefined) extensions.retryAfterMs = Math.max(0, Math.round(original.retryAfterMs));
    if (original.status >= 500) logger.warn('graphql request failed', { requestId, code: original.code, message: original.message });
    return new GraphQLError(redact(original.message), { ...at, extensions: { ...extensions } });
  }
  if (graphql && (original === undefined || isGraphQLInputError(original))) {
    const given = graphql.extensions['code'];
    // Already mapped (errors can pass this mapper twice, e.g. in the resolver result and the HTTP result): keep it.
    if (typeof given === 'string' && knownCodes.has(given) && given !== ErrorCode.queryTooComplex) return graphql;
    const code = given === ErrorCode.queryTooComplex ? ErrorCode.queryTooComplex : ErrorCode.invalidRequest;
    const extensions: GatewayErrorExtensions = { code, status: 400, requestId: stringOr(graphql.extensions['requestId'], requestId) };
    return new GraphQLError(redact(graphql.message.replace(/^Syntax Error: Query /, 'Query ')), { ...at, extensions: { ...extensions } });
  }
  logger.error('unexpected graphql error', {
    requestId,
    error: original instanceof Error ? `${original.name}: ${original.message}\n${original.stack ?? ''}` : String(original),
  });
  const extensions: GatewayErrorExtensions = { code: ErrorCode.internal, status: 500, requestId };
  return new GraphQLError(
    `The gateway failed unexpectedly while handling this request (request id ${requestId}); the server log has the details.`,
    { ...at, extensions: { ...extensions } },
  );
}

const knownCodes = new Set<string>(Object.values(ErrorCode));

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

/** GraphQL's own input errors (a variable of the wrong type, an unparsable literal) wrap a TypeError or a GraphQLError. */
function isGraphQLInputError(error: unknown): boolean {
  return error instanceof GraphQLError;
}
