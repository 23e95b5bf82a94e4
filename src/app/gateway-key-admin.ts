import { generateGatewayKey, newKeyId } from '../auth/gateway-key.js';
import type { Clock } from '../core/clock.js';
import { ErrorCode, GatewayError } from '../core/errors.js';
import type { GatewayKeyRecord, GatewayKeyRepository, KeyOwner, KeyScopes } from '../storage/key-repository.js';

export interface NewGatewayKey {
  name: string;
  owner?: KeyOwner;
  scopes?: KeyScopes;
  /** Epoch ms. */
  expiresAt?: number | null;
}

/** A key as shown to people and the admin API: everything but its hash. */
export type GatewayKeyView = Omit<GatewayKeyRecord, 'hash'> & { status: 'active' | 'revoked' | 'expired' };

/**
 * Issuing and revoking gateway keys (`cb_…`), shared by the CLI and the admin API. The key itself is
 * returned once, at creation; only its SHA-256 is stored.
 */
export class GatewayKeyAdmin {
  constructor(
    private readonly keys: GatewayKeyRepository,
    private readonly clock: Clock,
    /** Called after a change, so caches (the authenticator's) forget what they knew. */
    private readonly changed: () => void = () => {},
  ) {}

  async create(input: NewGatewayKey): Promise<{ key: string; record: GatewayKeyView }> {
    const now = this.clock.now();
    if (input.expiresAt !== undefined && input.expiresAt !== null && input.expiresAt <= now)
      throw new GatewayError(ErrorCode.invalidRequest, 'expires_at is in the past; give a future time.', {
        status: 400,
        param: 'expires_at',
      });
    const { key, hash, prefix } = generateGatewayKey();
    const record: GatewayKeyRecord = {
      id: newKeyId(),
      name: input.name,
      hash,
      prefix,
      owner: input.owner ?? {},
      scopes: input.scopes ?? {},
      createdAt: now,
      expiresAt: input.expiresAt ?? null,
      revokedAt: null,
      lastUsedAt: null,
    };
    await this.keys.insert(record);
    this.changed();
    return { key, record: this.view(record) };
  }

  async list(): Promise<GatewayKeyView[]> {
    return (await this.keys.list()).map((record) => this.view(record));
  }

  async get(id: string): Promise<GatewayKeyView | undefined> {
    const record = await this.keys.get(id);
    return record && this.view(record);
  }

  /** Revokes by id; a 404 when there is no such key. Revoking twice is not an error. */
  async revoke(id: string): Promise<GatewayKeyView> {
    if (!(await this.keys.revoke(id, this.clock.now())))
      throw new GatewayError(ErrorCode.notFound, `There is no gateway key '${id}' (list them with GET /api/v1/keys).`, { status: 404 });
    this.changed();
    return (await this.get(id)) as GatewayKeyView;
  }

  private view(record: GatewayKeyRecord): GatewayKeyView {
    const { hash: _hash, ...rest } = record;
    const now = this.clock.now();
    const status = record.revokedAt !== null ? 'revoked' : record.expiresAt !== null && record.expiresAt <= now ? 'expired' : 'active';
    return { ...rest, status };
  }
}
