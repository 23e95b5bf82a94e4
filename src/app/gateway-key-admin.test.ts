import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { hashGatewayKey, looksLikeGatewayKey } from '../auth/gateway-key.js';
import { KeyAuthenticator } from '../auth/key-authenticator.js';
import { ErrorCode } from '../core/errors.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { GatewayKeyAdmin } from './gateway-key-admin.js';
import { fakeClock as sharedFakeClock, refusal } from '../../test/support/unit.js';

const start = Date.UTC(2025, 5, 15, 12);

const fakeClock = (at = start) => sharedFakeClock(at);

let directory: string;
let file: string;
let store: SqliteStore;
let clock: ReturnType<typeof fakeClock>;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), 'cb-key-admin-'));
  file = join(directory, 'gateway.db');
  store = await SqliteStore.open(file);
  clock = fakeClock();
});

afterEach(async () => {
  await store.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('GatewayKeyAdmin.create', () => {
  it('returns a new cb_ key once, with a view of its record that has no hash', async () => {
    const admin = new GatewayKeyAdmin(store.gatewayKeys, clock);
    const { key, record } = await admin.create({
      name: 'billing-bot',
      owner: { user: 'alice', team: 'payments' },
      scopes: { models: ['gpt-4o'], rpm: 60 },
      expiresAt: start + 86_400_000,
    });
    expect(looksLikeGatewayKey(key)).toBe(true);
    expect(record).toEqual({
      id: expect.stringMatching(/^key_[0-9a-f]{16}$/),
      name: 'billing-bot',
      prefix: key.slice(0, 9),
      owner: { user: 'alice', team: 'payments' },
      scopes: { models: ['gpt-4o'], rpm: 60 },
      createdAt: start,
      expiresAt: start + 86_400_000,
      revokedAt: null,
      lastUsedAt: null,
      status: 'active',
    });
    expect(record).not.toHaveProperty('hash');
    expect(JSON.stringify(record)).not.toContain(key);
  });

  it('stores only the SHA-256 of the key, never the key itself', async () => {
    const admin = new GatewayKeyAdmin(store.gatewayKeys, clock);
    const { key, record } = await admin.create({ name: 'ci' });
    const stored = await store.gatewayKeys.get(record.id);
    expect(stored?.hash).toBe(hashGatewayKey(key));
    expect(JSON.stringify(stored)).not.toContain(key);
    expect(JSON.stringify(stored)).not.toContain(key.slice(9));

    // The raw row, read behind the repository's back: no column holds the key or its secret part.
    const database = new Database(file, { readonly: true });
    try {
      const row = database.prepare('SELECT * FROM gateway_keys WHERE id = ?').get(record.id) as Record<string, unknown>;
      expect(row['hash']).toBe(hashGatewayKey(key));
      for (const value of Object.values(row)) expect(String(value)).not.toContain(key.slice(9));
    } finally {
      database.close();
    }
  });

  it('gives each key a different secret and id', async () => {
    const admin = new GatewayKeyAdmin(store.gatewayKeys, clock);
    const first = await admin.create({ name: 'one' });
    const second = await admin.create({ name: 'one' });
    expect(second.key).not.toBe(first.key);
    expect(second.record.id).not.toBe(first.record.id);
  });

  it('defaults to no owner, no scopes and no expiry', async () => {
    const admin = new GatewayKeyAdmin(store.gatewayKeys, clock);
    const { record } = await admin.create({ name: 'plain', expiresAt: null });
    expect(record).toMatchObject({ owner: {}, scopes: {}, expiresAt: null, status: 'active' });
  });

  it('the key it returns authenticates as that key', async () => {
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, undefined);
    const admin = new GatewayKeyAdmin(store.gatewayKeys, clock, () => auth.invalidate());
    const { key, record } = await admin.create({ name: 'ci', owner: { project: 'apollo' } });
    const { principal } = await auth.authenticate(key, false);
    expect(principal).toMatchObject({ kind: 'key', keyId: record.id, name: 'ci', project: 'apollo' });
  });

  it.each([
    ['in the past', start - 1],
    ['now', start],
  ])('refuses an expiry %s with a 400 on expires_at, storing nothing', async (_label, expiresAt) => {
    const changed = vi.fn();
    const admin = new GatewayKeyAdmin(store.gatewayKeys, clock, changed);
    const error = await refusal(admin.create({ name: 'late', expiresAt }));
    expect(error.status).toBe(400);
    expect(error.code).toBe(ErrorCode.invalidRequest);
    expect(error.param).toBe('expires_at');
    expect(error.message).toContain('expires_at is in the past');
    expect(await store.gatewayKeys.list()).toEqual([]);
    expect(changed).not.toHaveBeenCalled();
  });

  it('tells the caches after a change', async () => {
    const changed = vi.fn();
    const admin = new GatewayKeyAdmin(store.gatewayKeys, clock, changed);
    const { record } = await admin.create({ name: 'ci' });
    expect(changed).toHaveBeenCalledTimes(1);
    await admin.revoke(record.id);
    expect(changed).toHaveBeenCalledTimes(2);
  });
});

describe('GatewayKeyAdmin list and get', () => {
  it('hide the hash of every key', async () => {
    const admin = new GatewayKeyAdmin(store.gatewayKeys, clock);
    const created = [await admin.create({ name: 'one' }), await admin.create({ name: 'two' })];
    const listed = await admin.list();
    expect(listed.map((view) => view.name).sort()).toEqual(['one', 'two']);
    for (const view of listed) {
      expect(view).not.toHaveProperty('hash');
      for (const { key } of created) expect(JSON.stringify(view)).not.toContain(key);
    }
    const one = await admin.get(created[0]?.record.id ?? '');
    expect(one).toEqual(created[0]?.record);
    expect(one).not.toHaveProperty('hash');
  });

  it('get() of an unknown id is undefined', async () => {
    const admin = new GatewayKeyAdmin(store.gatewayKeys, clock);
    expect(await admin.get('key_0000000000000000')).toBeUndefined();
  });

  it('status is active, then expired once the clock passes expiresAt', async () => {
    const admin = new GatewayKeyAdmin(store.gatewayKeys, clock);
    const { record } = await admin.create({ name: 'temp', expiresAt: start + 60_000 });
    clock.advance(59_999);
    expect((await admin.get(record.id))?.status).toBe('active');
    clock.advance(1);
    expect((await admin.get(record.id))?.status).toBe('expired');
    expect((await admin.list())[0]?.status).toBe('expired');
  });

  it('status is revoked after a revocation, even when the key has also expired', async () => {
    const admin = new GatewayKeyAdmin(store.gatewayKeys, clock);
    const { record } = await admin.create({ name: 'temp', expiresAt: start + 60_000 });
    await admin.revoke(record.id);
    clock.advance(120_000);
    expect((await admin.get(record.id))?.status).toBe('revoked');
  });
});

describe('GatewayKeyAdmin.revoke', () => {
  it('revokes by id and returns the revoked view', async () => {
    const admin = new GatewayKeyAdmin(store.gatewayKeys, clock);
    const { record } = await admin.create({ name: 'ci' });
    clock.advance(1_000);
    const revoked = await admin.revoke(record.id);
    expect(revoked).toMatchObject({ id: record.id, status: 'revoked', revokedAt: start + 1_000 });
    expect(revoked).not.toHaveProperty('hash');
  });

  it('revoking twice is not an error and keeps the first revocation time', async () => {
    const admin = new GatewayKeyAdmin(store.gatewayKeys, clock);
    const { record } = await admin.create({ name: 'ci' });
    await admin.revoke(record.id);
    clock.advance(5_000);
    expect(await admin.revoke(record.id)).toMatchObject({ status: 'revoked', revokedAt: start });
  });

  it('an unknown id is a 404 naming it', async () => {
    const changed = vi.fn();
    const admin = new GatewayKeyAdmin(store.gatewayKeys, clock, changed);
    const error = await refusal(admin.revoke('key_ffffffffffffffff'));
    expect(error.status).toBe(404);
    expect(error.code).toBe(ErrorCode.notFound);
    expect(error.message).toContain("There is no gateway key 'key_ffffffffffffffff'");
    expect(changed).not.toHaveBeenCalled();
  });

  it('a revoked key no longer authenticates', async () => {
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, undefined);
    const admin = new GatewayKeyAdmin(store.gatewayKeys, clock, () => auth.invalidate());
    const { key, record } = await admin.create({ name: 'ci' });
    await auth.authenticate(key, false);
    await admin.revoke(record.id);
    await expect(auth.authenticate(key, false)).rejects.toThrow(/was revoked/);
  });
});
