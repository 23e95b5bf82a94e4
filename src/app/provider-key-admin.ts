import { randomBytes } from 'node:crypto';
import type { Keyring } from '../auth/secret-box.js';
import type { Clock } from '../core/clock.js';
import { ErrorCode, GatewayError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Redactor } from '../core/redact.js';
import { Secret } from '../config/secret.js';
import type { HealthRegistry } from '../routing/health-registry.js';
import { keyFingerprint } from '../routing/key-pool.js';
import type { ProviderKeyRecord, ProviderKeyRepository } from '../storage/key-repository.js';

export type ProviderKeyView = Pick<ProviderKeyRecord, 'id' | 'provider' | 'label' | 'fingerprint' | 'createdAt'>;

/** How often a replica picks up provider keys another replica added or removed. */
const syncMs = 30_000;

/**
 * Provider keys added at run time through the admin API: stored encrypted (AES-256-GCM under the master
 * key, the record id as associated data), added to the provider's key pool at once, and picked up by
 * other replicas within 30 s. Listing shows fingerprints only; no API returns a key.
 */
export class ProviderKeyAdmin {
  /** Stored key id → its provider and fingerprint, and whether this admin put it in the pool (not a duplicate of a configured key). */
  private readonly loaded = new Map<string, { provider: string; fingerprint: string; pooled: boolean }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly records: ProviderKeyRepository,
    private readonly keyring: Keyring | undefined,
    private readonly providers: ReadonlySet<string>,
    private readonly health: HealthRegistry,
    private readonly redactor: Redactor,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Loads stored keys into their pools and keeps them in sync with the store. */
  async start(): Promise<void> {
    await this.sync();
    this.timer = setInterval(
      () => void this.sync().catch((error: unknown) => this.logger.warn('provider key sync failed', { error: String(error) })),
      syncMs,
    );
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async add(provider: string, key: string, label: string): Promise<ProviderKeyView> {
    if (!this.providers.has(provider))
      throw new GatewayError(
        ErrorCode.notFound,
        `There is no provider '${provider}' (configured: ${[...this.providers].join(', ') || 'none'}).`,
        {
          status: 404,
        },
      );
    if (!this.keyring)
      throw new GatewayError(
        ErrorCode.invalidRequest,
        'Provider keys added at run time are stored encrypted, and no master key is configured: set CB_MASTER_KEY (e.g. `openssl rand -hex 32`) or CB_MASTER_KEY_FILE and restart.',
        { status: 409 },
      );
    const id = `pk_${randomBytes(8).toString('hex')}`;
    const record: ProviderKeyRecord = {
      id,
      provider,
      label,
      fingerprint: keyFingerprint(key),
      createdAt: this.clock.now(),
      ...this.keyring.seal(key, id),
    };
    await this.records.insert(record);
    this.use(record, key);
    return view(record);
  }

  async list(provider?: string): Promise<ProviderKeyView[]> {
    return (await this.records.list(provider)).map(view);
  }

  async remove(id: string): Promise<void> {
    const record = (await this.records.list()).find((entry) => entry.id === id);
    if (!record || !(await this.records.delete(id)))
      throw new GatewayError(ErrorCode.notFound, `There is no stored provider key '${id}'.`, { status: 404 });
    if (this.loaded.get(id)?.pooled) this.health.keys(record.provider).remove(record.fingerprint);
    this.loaded.delete(id);
  }

  private async sync(): Promise<void> {
    const records = await this.records.list();
    for (const record of records) {
      if (this.loaded.has(record.id)) continue;
      if (!this.keyring) {
        this.logger.error('a stored provider key cannot be used: no master key is configured', {
          id: record.id,
          provider: record.provider,
        });
        this.loaded.set(record.id, { provider: record.provider, fingerprint: record.fingerprint, pooled: false });
        continue;
      }
      try {
        this.use(record, this.keyring.open(record, record.id));
      } catch (error) {
        this.loaded.set(record.id, { provider: record.provider, fingerprint: record.fingerprint, pooled: false });
        this.logger.error('a stored provider key cannot be decrypted', {
          id: record.id,
          provider: record.provider,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    const present = new Set(records.map((record) => record.id));
    for (const [id, entry] of this.loaded) {
      if (present.has(id)) continue;
      if (entry.pooled && this.health.keys(entry.provider).remove(entry.fingerprint))
        this.logger.info('a provider key was removed elsewhere', { id, provider: entry.provider });
      this.loaded.delete(id);
    }
  }

  private use(record: ProviderKeyRecord, key: string): void {
    this.redactor.add(key);
    const pooled = this.health.keys(record.provider).add(new Secret(key, `stored:${record.id}`));
    this.loaded.set(record.id, { provider: record.provider, fingerprint: record.fingerprint, pooled });
  }
}

function view(record: ProviderKeyRecord): ProviderKeyView {
  return { id: record.id, provider: record.provider, label: record.label, fingerprint: record.fingerprint, createdAt: record.createdAt };
}

/** Re-encrypts every stored provider key under `next` (`circuit-breaker keys rotate-master`); returns how many. */
export async function rotateMasterKey(records: ProviderKeyRepository, current: Keyring, next: Keyring): Promise<number> {
  const all = await records.list();
  const resealed = all.map((record) => ({ ...record, ...next.seal(current.open(record, record.id), record.id) }));
  await records.replaceEncrypted(resealed);
  return resealed.length;
}
