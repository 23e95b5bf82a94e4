import type { Kysely, Selectable } from 'kysely';
import type { GatewayKeyRecord, GatewayKeyRepository, ProviderKeyRecord, ProviderKeyRepository } from '../key-repository.js';
import type { SqlSchema } from './sql-schema.js';

type KeyRow = Selectable<SqlSchema['gateway_keys']>;

function toRecord(row: KeyRow): GatewayKeyRecord {
  const owner: GatewayKeyRecord['owner'] = {};
  if (row.owner_user !== null) owner.user = row.owner_user;
  if (row.owner_team !== null) owner.team = row.owner_team;
  if (row.owner_project !== null) owner.project = row.owner_project;
  return {
    id: row.id,
    name: row.name,
    hash: row.hash,
    prefix: row.prefix,
    owner,
    scopes: JSON.parse(row.scopes) as GatewayKeyRecord['scopes'],
    createdAt: Number(row.created_at),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}

/** Gateway keys over Kysely (SQLite or PostgreSQL). */
export class SqlGatewayKeyRepository implements GatewayKeyRepository {
  constructor(private readonly db: Kysely<SqlSchema>) {}

  async insert(record: GatewayKeyRecord): Promise<void> {
    await this.db
      .insertInto('gateway_keys')
      .values({
        id: record.id,
        name: record.name,
        hash: record.hash,
        prefix: record.prefix,
        owner_user: record.owner.user ?? null,
        owner_team: record.owner.team ?? null,
        owner_project: record.owner.project ?? null,
        scopes: JSON.stringify(record.scopes),
        created_at: record.createdAt,
        expires_at: record.expiresAt,
        revoked_at: record.revokedAt,
        last_used_at: record.lastUsedAt,
      })
      .execute();
  }

  async findByHash(hash: string): Promise<GatewayKeyRecord | undefined> {
    const row = await this.db.selectFrom('gateway_keys').selectAll().where('hash', '=', hash).executeTakeFirst();
    return row && toRecord(row);
  }

  async get(id: string): Promise<GatewayKeyRecord | undefined> {
    const row = await this.db.selectFrom('gateway_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  async list(): Promise<GatewayKeyRecord[]> {
    const rows = await this.db.selectFrom('gateway_keys').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toRecord);
  }

  async revoke(id: string, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('gateway_keys')
      .set({ revoked_at: at })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) > 0) return true;
    return (await this.get(id)) !== undefined;
  }

  async countActive(now: number): Promise<number> {
    const row = await this.db
      .selectFrom('gateway_keys')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .executeTakeFirst();
    return Number(row?.count ?? 0);
  }

  async touch(ids: readonly string[], at: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable('gateway_keys')
      .set({ last_used_at: at })
      .where('id', 'in', [...ids])
      .execute();
  }
}

/** Encrypted provider keys over Kysely. */
export class SqlProviderKeyRepository implements ProviderKeyRepository {
  constructor(private readonly db: Kysely<SqlSchema>) {}

  async insert(record: ProviderKeyRecord): Promise<void> {
    await this.db.insertInto('provider_keys').values(toProviderRow(record)).execute();
  }

  async list(provider?: string): Promise<ProviderKeyRecord[]> {
    let query = this.db.selectFrom('provider_keys').selectAll().orderBy('created_at').orderBy('id');
    if (provider !== undefined) query = query.where('provider', '=', provider);
    const rows = await query.execute();
    return rows.map((row) => ({
      id: row.id,
      provider: row.provider,
      label: row.label,
      ciphertext: row.ciphertext,
      iv: row.iv,
      tag: row.tag,
      masterFingerprint: row.master_fingerprint,
      fingerprint: row.fingerprint,
      createdAt: Number(row.created_at),
    }));
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('provider_keys').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async replaceEncrypted(records: readonly ProviderKeyRecord[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (const record of records) {
        await trx
          .updateTable('provider_keys')
          .set({ ciphertext: record.ciphertext, iv: record.iv, tag: record.tag, master_fingerprint: record.masterFingerprint })
          .where('id', '=', record.id)
          .execute();
      }
    });
  }
}

function toProviderRow(record: ProviderKeyRecord): SqlSchema['provider_keys'] {
  return {
    id: record.id,
    provider: record.provider,
    label: record.label,
    ciphertext: record.ciphertext,
    iv: record.iv,
    tag: record.tag,
    master_fingerprint: record.masterFingerprint,
    fingerprint: record.fingerprint,
    created_at: record.createdAt,
  };
}
