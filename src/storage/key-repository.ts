/** Scopes a gateway key carries; every field is optional and absent means "no limit of this kind". */
export interface KeyScopes {
  /** Model names (or `provider/*`, `*` globs) the key may call. */
  models?: string[];
  rpm?: number;
  tpm?: number;
  concurrency?: number;
  budget?: { limitUsd: number; period: 'daily' | 'monthly' };
}

/** Who a key's usage is attributed to. */
export interface KeyOwner {
  user?: string;
  team?: string;
  project?: string;
}

/** A gateway key (`cb_…`) as stored: the key itself is never stored, only its SHA-256. */
export interface GatewayKeyRecord {
  id: string;
  name: string;
  /** Hex SHA-256 of the whole key. */
  hash: string;
  /** The first characters of the key (`cb_AbC1`), for people to recognise it. */
  prefix: string;
  owner: KeyOwner;
  scopes: KeyScopes;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export interface GatewayKeyRepository {
  insert(record: GatewayKeyRecord): Promise<void>;
  findByHash(hash: string): Promise<GatewayKeyRecord | undefined>;
  get(id: string): Promise<GatewayKeyRecord | undefined>;
  list(): Promise<GatewayKeyRecord[]>;
  /** Sets `revokedAt`; resolves false when there is no such key. */
  revoke(id: string, at: number): Promise<boolean>;
  /** How many keys are neither revoked nor expired at `now`. */
  countActive(now: number): Promise<number>;
  /** Records when keys were last used (batched by the caller). */
  touch(ids: readonly string[], at: number): Promise<void>;
}

/** A provider key added at run time, encrypted with the master key (AES-256-GCM). */
export interface ProviderKeyRecord {
  id: string;
  provider: string;
  label: string;
  /** base64 ciphertext, IV and GCM tag; the record id is the associated data. */
  ciphertext: string;
  iv: string;
  tag: string;
  /** Fingerprint of the master key that encrypted it (for rotation). */
  masterFingerprint: string;
  /** First 8 hex of the SHA-256 of the plaintext key, safe to show. */
  fingerprint: string;
  createdAt: number;
}

export interface ProviderKeyRepository {
  insert(record: ProviderKeyRecord): Promise<void>;
  list(provider?: string): Promise<ProviderKeyRecord[]>;
  delete(id: string): Promise<boolean>;
  /** Replaces the encrypted fields of records (master-key rotation), all or none. */
  replaceEncrypted(records: readonly ProviderKeyRecord[]): Promise<void>;
}
