import type { IncomingHttpHeaders } from 'node:http';
import type { AppContainer } from '../app/container.js';
import type { Authenticated } from '../auth/key-authenticator.js';
import { ErrorCode, GatewayError } from '../core/errors.js';
import type { Principal } from '../core/principal.js';

/** What every resolver gets: the container (use cases), who is calling, and the request id for errors and the ledger. */
export interface GraphQLContext {
  container: AppContainer;
  auth: Authenticated;
  requestId: string;
  /** Aborted when the client goes away (the HTTP request closes, the socket closes): cancels upstream work. */
  signal: AbortSignal;
}

/**
 * Authenticates a GraphQL caller with the same keys and rules as REST: `Authorization: Bearer <key>` or
 * `x-api-key` on the HTTP request (or the WebSocket handshake), else — for graphql-ws — the
 * `connection_init` payload's `authorization` / `Authorization` / `x-api-key` / `apiKey`. Without a
 * key, only a loopback caller of a gateway with no keys at all is let in (anonymous).
 */
export async function authenticateCaller(
  container: AppContainer,
  headers: IncomingHttpHeaders,
  remoteAddress: string | undefined,
  connectionParams?: Readonly<Record<string, unknown>>,
): Promise<Authenticated> {
  const presented = keyFromHeaders(headers) ?? keyFromParams(connectionParams);
  return container.authenticator.authenticate(presented, isLoopback(remoteAddress));
}

/** The admin key, or the anonymous loopback caller of a gateway without keys (as on REST). */
export function isAdmin(principal: Principal): boolean {
  return principal.kind === 'admin' || principal.kind === 'anonymous';
}

/** Refuses a non-admin caller with a 403 `permission_denied` that names the operation. */
export function requireAdmin(context: GraphQLContext, operation: string): void {
  if (!isAdmin(context.auth.principal))
    throw new GatewayError(ErrorCode.permission, `${operation} needs the admin key (CB_ADMIN_KEY); a gateway key cannot use it.`, {
      status: 403,
    });
}

function keyFromHeaders(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  const bearer = authorization ? /^Bearer\s+(.+)$/i.exec(authorization.trim())?.[1]?.trim() : undefined;
  const apiKey = headers['x-api-key'];
  return bearer ?? (Array.isArray(apiKey) ? apiKey[0] : apiKey);
}

function keyFromParams(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  if (!params) return undefined;
  for (const name of ['authorization', 'Authorization']) {
    const value = params[name];
    if (typeof value === 'string') return /^Bearer\s+(.+)$/i.exec(value.trim())?.[1]?.trim() ?? value.trim();
  }
  for (const name of ['x-api-key', 'apiKey', 'api_key']) {
    const value = params[name];
    if (typeof value === 'string') return value.trim();
  }
  return undefined;
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
