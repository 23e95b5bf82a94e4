import { createHash, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { ErrorCode, GatewayError } from '../core/errors.js';
import { adminPrincipal, anonymousPrincipal } from '../core/principal.js';
import type { Principal } from '../core/principal.js';
import type { GatewayKeyRecord, GatewayKeyRepository } from '../storage/key-repository.js';
import { hashGatewayKey, looksLikeGatewayKey } from './gateway-key.js';

export interface Authenticated {
  principal: Principal;
  /** The key's record, for its budget and the `GET /api/v1/key` answer. */
  key: GatewayKeyRecord | undefined;
}

/** Cached lookups: a key seen recently is not read from the store again for this long. */
const cacheTtlMs = 5_000;
const maxCached = 10_000;

/**
 * Who a request is: a gateway key (`cb_…`, looked up by its SHA-256 in the store, cached for 5 s so a
 * revocation reaches every replica within that; the cache is keyed by the presented key itself, so a
 * request with a cached key computes no hash — the key is in this process's memory while requests
 * carry it anyway, and never leaves it), the admin key (`CB_ADMIN_KEY`), or — only when no key
 * of either kind exists — an anonymous caller from loopback. Failures are 401s that say what to send.
 * `last_used_at` is written in batches, not per request.
 */
export class KeyAuthenticator {
  /** By presented key: the record as read, and its principal built once (shared read-only by every request with that key). */
  private readonly cache = new Map<string, { record: GatewayKeyRecord | undefined; principal: Principal | undefined; at: number }>();
  private readonly used = new Set<string>();
  private activeKeys: { count: number; at: number } | undefined;
  private readonly adminDigest: Buffer | undefined;

  constructor(
    private readonly keys: GatewayKeyRepository,
    private readonly clock: Clock,
    adminKey: string | undefined,
  ) {
    this.adminDigest = adminKey ? digest(adminKey) : undefined;
  }

  /** Whether requests without a key are accepted from loopback: no admin key and no active gateway key. */
  async anonymousAllowed(): Promise<boolean> {
    if (this.adminDigest) return false;
    const now = this.clock.now();
    if (!this.activeKeys || now - this.activeKeys.at > cacheTtlMs) this.activeKeys = { count: await this.keys.countActive(now), at: now };
    return this.activeKeys.count === 0;
  }

  /** Forget cached lookups (after a key was created or revoked through this process). */
  invalidate(): void {
    this.cache.clear();
    this.activeKeys = undefined;
  }

  async authenticate(presented: string | undefined, fromLoopback: boolean): Promise<Authenticated> {
    if (presented === undefined || presented === '') {
      if (fromLoopback && (await this.anonymousAllowed())) return { principal: anonymousPrincipal, key: undefined };
      throw unauthorized(
        (await this.anonymousAllowed())
          ? 'This gateway has no keys configured and accepts requests without a key from its own machine only; create a key (`circuit-breaker keys create`) or set CB_ADMIN_KEY and send it as a Bearer token.'
          : 'Missing API key: send `Authorization: Bearer <key>` with a gateway key (cb_…) or the admin key.',
      );
    }
    if (this.adminDigest && timingSafeEqual(digest(presented), this.adminDigest)) return { principal: adminPrincipal, key: undefined };
    if (!looksLikeGatewayKey(presented)) {
      if (fromLoopback && (await this.anonymousAllowed())) return { principal: anonymousPrincipal, key: undefined };
      throw unauthorized('The API key is not valid for this gateway (gateway keys start with cb_; the provider keys stay on the server).');
    }
    const { record, principal } = await this.lookup(presented);
    const now = this.clock.now();
    if (!record) throw unauthorized('The API key is not valid for this gateway.');
    if (record.revokedAt !== null) throw unauthorized(`The API key '${record.name}' (${record.prefix}…) was revoked; ask for a new one.`);
    if (record.expiresAt !== null && record.expiresAt <= now)
      throw unauthorized(
        `The API key '${record.name}' (${record.prefix}…) expired at ${new Date(record.expiresAt).toISOString()}; ask for a new one.`,
      );
    this.used.add(record.id);
    return { principal: principal ?? principalOf(record), key: record };
  }

  /** Ids of keys used since the last call (for a batched `touch`). */
  takeUsed(): string[] {
    const ids = [...this.used];
    this.used.clear();
    return ids;
  }

  private async lookup(presented: string): Promise<{ record: GatewayKeyRecord | undefined; principal: Principal | undefined }> {
    const now = this.clock.now();
    const cached = this.cache.get(presented);
    if (cached && now - cached.at < cacheTtlMs) return cached;
    const record = await this.keys.findByHash(hashGatewayKey(presented));
    if (this.cache.size >= maxCached) this.cache.clear();
    const entry = { record, principal: record ? principalOf(record) : undefined, at: now };
    this.cache.set(presented, entry);
    return entry;
  }
}

export function principalOf(record: GatewayKeyRecord): Principal {
  return {
    kind: 'key',
    keyId: record.id,
    name: record.name,
    user: record.owner.user ?? null,
    team: record.owner.team ?? null,
    project: record.owner.project ?? null,
    models: record.scopes.models,
    rpm: record.scopes.rpm,
    tpm: record.scopes.tpm,
    concurrency: record.scopes.concurrency,
    budget: record.scopes.budget,
  };
}

function unauthorized(message: string): GatewayError {
  return new GatewayError(ErrorCode.authentication, message, { status: 401 });
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
