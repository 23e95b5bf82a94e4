import type { FastifyInstance } from 'fastify';
import type { AppContainer } from '../../app/container.js';
import type { GatewayKeyView } from '../../app/gateway-key-admin.js';
import type { KeyScopes } from '../../storage/key-repository.js';
import { addProviderKeySchema, createKeySchema } from '../schemas/admin-schemas.js';
import { validateBody } from '../validate.js';

const admin = { config: { access: 'admin' as const } };

/**
 * The admin API for keys (admin key only): gateway keys (`/api/v1/keys`: create — the key is in that
 * answer only —, list, get, revoke) and provider keys stored encrypted at run time
 * (`/api/v1/providers/{name}/keys`: add, list by fingerprint, delete).
 */
export function registerAdminKeys(app: FastifyInstance, container: AppContainer): void {
  app.post('/api/v1/keys', admin, async (request, reply) => {
    const input = validateBody(createKeySchema, request.body);
    const scopes: KeyScopes = {};
    if (input.scopes?.models) scopes.models = input.scopes.models;
    if (input.scopes?.rpm) scopes.rpm = input.scopes.rpm;
    if (input.scopes?.tpm) scopes.tpm = input.scopes.tpm;
    if (input.scopes?.concurrency) scopes.concurrency = input.scopes.concurrency;
    if (input.scopes?.budget) scopes.budget = { limitUsd: input.scopes.budget.limit_usd, period: input.scopes.budget.period ?? 'monthly' };
    const expiresAt = input.expires_at
      ? Date.parse(input.expires_at)
      : input.expires_in_days
        ? container.clock.now() + input.expires_in_days * 86_400_000
        : null;
    const created = await container.gatewayKeys.create({ name: input.name, owner: input.owner ?? {}, scopes, expiresAt });
    reply.code(201);
    return { key: created.key, ...keyJson(created.record) };
  });
  app.get('/api/v1/keys', admin, async () => ({ data: (await container.gatewayKeys.list()).map(keyJson) }));
  app.get<{ Params: { id: string } }>('/api/v1/keys/:id', admin, async (request, reply) => {
    const key = await container.gatewayKeys.get(request.params.id);
    if (!key) {
      reply.code(404);
      return notFound(`There is no gateway key '${request.params.id}'.`);
    }
    return keyJson(key);
  });
  app.delete<{ Params: { id: string } }>('/api/v1/keys/:id', admin, async (request) =>
    keyJson(await container.gatewayKeys.revoke(request.params.id)),
  );

  app.post<{ Params: { name: string } }>('/api/v1/providers/:name/keys', admin, async (request, reply) => {
    const input = validateBody(addProviderKeySchema, request.body);
    const stored = await container.providerKeys.add(request.params.name, input.key.trim(), input.label ?? '');
    reply.code(201);
    return providerKeyJson(stored);
  });
  app.get<{ Params: { name: string } }>('/api/v1/providers/:name/keys', admin, async (request) => ({
    data: (await container.providerKeys.list(request.params.name)).map(providerKeyJson),
  }));
  app.delete<{ Params: { name: string; id: string } }>('/api/v1/providers/:name/keys/:id', admin, async (request, reply) => {
    await container.providerKeys.remove(request.params.id);
    reply.code(204);
  });
}

export function keyJson(key: GatewayKeyView) {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    status: key.status,
    owner: key.owner,
    scopes: {
      ...key.scopes,
      ...(key.scopes.budget ? { budget: { limit_usd: key.scopes.budget.limitUsd, period: key.scopes.budget.period } } : {}),
    },
    created_at: iso(key.createdAt),
    expires_at: iso(key.expiresAt),
    revoked_at: iso(key.revokedAt),
    last_used_at: iso(key.lastUsedAt),
  };
}

function providerKeyJson(key: { id: string; provider: string; label: string; fingerprint: string; createdAt: number }) {
  return { id: key.id, provider: key.provider, label: key.label, fingerprint: key.fingerprint, created_at: iso(key.createdAt) };
}

function iso(at: number | null): string | null {
  return at === null ? null : new Date(at).toISOString();
}

function notFound(message: string) {
  return { error: { message, type: 'not_found_error', param: null, code: 'not_found' } };
}
