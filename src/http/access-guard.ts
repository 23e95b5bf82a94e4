import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticated, KeyAuthenticator } from '../auth/key-authenticator.js';
import { ErrorCode, GatewayError } from '../core/errors.js';
import type { Principal } from '../core/principal.js';

/**
 * Who may call which route. `open`: anyone (`/health`, `/ready`). `user` (the default): a gateway key,
 * the admin key, or — when no key of either kind exists — anyone on loopback. `admin`: the admin key
 * (or that anonymous loopback caller). `metrics`: like admin unless `metrics.public` is set.
 */
export type RouteAccess = 'open' | 'user' | 'admin' | 'metrics';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    auth: Authenticated;
  }
}

/** The guard as an `onRequest` hook: authenticates the caller and checks the route's access class. */
export function createAccessGuard(authenticator: KeyAuthenticator, options: { metricsPublic: boolean }) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const access = request.routeOptions.config.access ?? 'user';
    if (access === 'open' || (access === 'metrics' && options.metricsPublic)) return;
    const presented = bearerToken(request.headers.authorization) ?? headerValue(request.headers['x-api-key']);
    request.auth = await authenticator.authenticate(presented, isLoopback(request.socket.remoteAddress));
    if ((access === 'admin' || access === 'metrics') && !isAdmin(request.auth.principal)) {
      throw new GatewayError(
        ErrorCode.permission,
        `${request.method} ${request.url.split('?')[0]} needs the admin key (CB_ADMIN_KEY); a gateway key cannot use it.`,
        {
          status: 403,
        },
      );
    }
  };
}

/** The admin key, or the anonymous loopback caller of a gateway with no keys at all. */
export function isAdmin(principal: Principal): boolean {
  return principal.kind === 'admin' || principal.kind === 'anonymous';
}

function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1]?.trim();
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
