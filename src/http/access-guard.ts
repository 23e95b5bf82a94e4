import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayConfig } from '../config/gateway-config.js';
import { ErrorCode } from '../core/errors.js';

const openPaths = new Set(['/health', '/ready']);

/**
 * Who may call the API until gateway keys exist (the keys issue adds `cb_…` keys with scopes):
 * with `CB_ADMIN_KEY` set, a request must carry it as `Authorization: Bearer …`; with no key configured,
 * requests are accepted from loopback addresses only, and start-up says so. `/health` and `/ready` are open.
 */
export function createAccessGuard(config: GatewayConfig) {
  const adminDigest = config.access.adminKey ? digest(config.access.adminKey.reveal()) : undefined;
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (openPaths.has(request.url)) return;
    if (adminDigest) {
      const presented = bearerToken(request.headers.authorization) ?? headerValue(request.headers['x-api-key']);
      if (presented && timingSafeEqual(digest(presented), adminDigest)) return;
      await deny(
        reply,
        401,
        presented ? 'The API key is not valid for this gateway.' : 'Missing API key: send `Authorization: Bearer <key>`.',
      );
      return;
    }
    if (!isLoopback(request.socket.remoteAddress)) {
      await deny(
        reply,
        401,
        'This gateway has no keys configured and accepts requests from its own machine only; set CB_ADMIN_KEY and send it as a Bearer token.',
      );
    }
  };
}

async function deny(reply: FastifyReply, status: number, message: string): Promise<void> {
  await reply.code(status).send({ error: { message, type: 'authentication_error', param: null, code: ErrorCode.authentication } });
}

function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1];
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
