import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, GatewayError } from '../core/errors.js';
import { adminPrincipal, anonymousPrincipal } from '../core/principal.js';
import type { GatewayKeyRecord } from '../storage/key-repository.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { generateGatewayKey, hashGatewayKey, looksLikeGatewayKey, newKeyId } from './gateway-key.js';
import { KeyAuthenticator, principalOf } from './key-authenticator.js';
import { fakeClock as sharedFakeClock, refusal } from '../../test/support/unit.js';

const start = Date.UTC(2025, 5, 15, 12);
const adminKey = 'cb-admin-0123456789-test-only';

const fakeClock = (at = start) => sharedFakeClock(at);

let directory: string;
let store: SqliteStore;
let clock: ReturnType<typeof fakeClock>;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), 'cb-auth-'));
  store = await SqliteStore.open(join(directory, 'gateway.db'));
  clock = fakeClock();
});

afterEach(async () => {
  await store.close();
  rmSync(directory, { recursive: true, force: true });
});

/** Stores a new key and returns the secret with its record. */
async function storedKey(overrides: Partial<GatewayKeyRecord> = {}): Promise<{ key: string; record: GatewayKeyRecord }> {
  const { key, hash, prefix } = generateGatewayKey();
  const record: GatewayKeyRecord = {
    id: newKeyId(),
    name: 'ci',
    hash,
    prefix,
    owner: {},
    scopes: {},
    createdAt: start - 1_000,
    expiresAt: null,
    revokedAt: null,
    lastUsedAt: null,
    ...overrides,
  };
  await store.gatewayKeys.insert(record);
  return { key, record };
}

describe('gateway keys', () => {
  it('look like cb_ and 43 url-safe characters; the stored form is the hex SHA-256 and a 9-character prefix', () => {
    const { key, hash, prefix } = generateGatewayKey();
    expect(key).toMatch(/^cb_[A-Za-z0-9_-]{43}$/);
    expect(looksLikeGatewayKey(key)).toBe(true);
    expect(hash).toBe(hashGatewayKey(key));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(prefix).toBe(key.slice(0, 9));
    expect(generateGatewayKey().key).not.toBe(key);
  });

  it.each(['', 'cb_', 'sk-proj-abc', `cb_${'a'.repeat(42)}`, `cb_${'a'.repeat(44)}`, `cb_${'a'.repeat(42)}!`, ` cb_${'a'.repeat(43)}`])(
    'looksLikeGatewayKey(%j) is false',
    (value) => {
      expect(looksLikeGatewayKey(value)).toBe(false);
    },
  );

  it('key ids are key_ and 16 hex characters', () => {
    expect(newKeyId()).toMatch(/^key_[0-9a-f]{16}$/);
  });
});

describe('KeyAuthenticator anonymous access', () => {
  it('accepts no key from loopback when there is no admin key and no active gateway key', async () => {
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, undefined);
    expect(await auth.anonymousAllowed()).toBe(true);
    expect(await auth.authenticate(undefined, true)).toEqual({ principal: anonymousPrincipal, key: undefined });
    expect(await auth.authenticate('', true)).toEqual({ principal: anonymousPrincipal, key: undefined });
  });

  it('refuses no key from another machine, saying how to configure keys', async () => {
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, undefined);
    const error = await refusal(auth.authenticate(undefined, false));
    expect(error.status).toBe(401);
    expect(error.code).toBe(ErrorCode.authentication);
    expect(error.message).toContain('accepts requests without a key from its own machine only');
  });

  it('refuses no key from loopback once an admin key is set', async () => {
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, adminKey);
    expect(await auth.anonymousAllowed()).toBe(false);
    const error = await refusal(auth.authenticate(undefined, true));
    expect(error.status).toBe(401);
    expect(error.message).toContain('Missing API key');
  });

  it('refuses no key from loopback once an active gateway key exists', async () => {
    await storedKey();
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, undefined);
    expect(await auth.anonymousAllowed()).toBe(false);
    expect((await refusal(auth.authenticate(undefined, true))).message).toContain('Missing API key');
  });

  it('revoked and expired keys do not count as active', async () => {
    await storedKey({ revokedAt: start - 10 });
    await storedKey({ expiresAt: start });
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, undefined);
    expect(await auth.anonymousAllowed()).toBe(true);
  });

  it('accepts a value that is not a cb_ key as anonymous from loopback while anonymous access is allowed', async () => {
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, undefined);
    expect((await auth.authenticate('sk-proj-provider-key', true)).principal).toBe(anonymousPrincipal);
    const error = await refusal(auth.authenticate('sk-proj-provider-key', false));
    expect(error.message).toContain('gateway keys start with cb_');
  });

  it('refuses a value that is not a cb_ key when anonymous access is not allowed', async () => {
    await storedKey();
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, undefined);
    const error = await refusal(auth.authenticate('sk-proj-provider-key', true));
    expect(error.status).toBe(401);
    expect(error.message).toContain('The API key is not valid for this gateway (gateway keys start with cb_');
  });

  it('notices a key created directly in the store after the 5 s cache, or at once after invalidate()', async () => {
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, undefined);
    expect(await auth.anonymousAllowed()).toBe(true);
    await storedKey();
    clock.advance(5_000);
    expect(await auth.anonymousAllowed()).toBe(true); // still cached
    clock.advance(1);
    expect(await auth.anonymousAllowed()).toBe(false);

    const other = new KeyAuthenticator(store.gatewayKeys, clock, undefined);
    await store.gatewayKeys.revoke((await store.gatewayKeys.list())[0]?.id ?? '', clock.now());
    expect(await other.anonymousAllowed()).toBe(true);
    await storedKey();
    expect(await other.anonymousAllowed()).toBe(true);
    other.invalidate();
    expect(await other.anonymousAllowed()).toBe(false);
  });
});

describe('KeyAuthenticator admin key', () => {
  it('accepts the admin key as the admin principal', async () => {
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, adminKey);
    expect(await auth.authenticate(adminKey, false)).toEqual({ principal: adminPrincipal, key: undefined });
    expect(auth.takeUsed()).toEqual([]);
  });

  it.each([
    ['a prefix of it', adminKey.slice(0, -1)],
    ['it and more', `${adminKey}x`],
    ['a different value of the same length', adminKey.replace(/.$/, 'Z')],
    ['a much longer value', 'x'.repeat(500)],
  ])('refuses %s with a 401, not an exception of the comparison', async (_label, presented) => {
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, adminKey);
    const error = await refusal(auth.authenticate(presented, false));
    expect(error.status).toBe(401);
    expect(error.code).toBe(ErrorCode.authentication);
  });

  it('a gateway key still works next to the admin key', async () => {
    const { key, record } = await storedKey();
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, adminKey);
    expect((await auth.authenticate(key, false)).principal.keyId).toBe(record.id);
  });

  it('an empty admin key is no admin key', async () => {
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, '');
    expect(await auth.anonymousAllowed()).toBe(true);
    expect((await auth.authenticate(undefined, true)).principal).toBe(anonymousPrincipal);
  });
});

describe('KeyAuthenticator gateway keys', () => {
  it('accepts an active key and fills the principal from its owner and scopes', async () => {
    const { key, record } = await storedKey({
      name: 'billing-bot',
      owner: { user: 'alice', team: 'payments', project: 'ledger' },
      scopes: { models: ['gpt-4o', 'anthropic/*'], rpm: 60, tpm: 90_000, concurrency: 4, budget: { limitUsd: 25, period: 'monthly' } },
      expiresAt: start + 60_000,
    });
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, undefined);
    const result = await auth.authenticate(key, false);
    expect(result.principal).toEqual({
      kind: 'key',
      keyId: record.id,
      name: 'billing-bot',
      user: 'alice',
      team: 'payments',
      project: 'ledger',
      models: ['gpt-4o', 'anthropic/*'],
      rpm: 60,
      tpm: 90_000,
      concurrency: 4,
      budget: { limitUsd: 25, period: 'monthly' },
    });
    expect(result.key).toEqual(record);
  });

  it('a key without owner or scopes gives nulls and no limits', async () => {
    const { key, record } = await storedKey();
    expect(principalOf(record)).toMatchObject({ user: null, team: null, project: null, models: undefined, rpm: undefined });
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, undefined);
    expect((await auth.authenticate(key, true)).principal).toEqual(principalOf(record));
  });

  it('refuses a revoked key, naming it', async () => {
    const { key, record } = await storedKey({ name: 'old-ci', revokedAt: start - 1 });
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, undefined);
    const error = await refusal(auth.authenticate(key, true));
    expect(error.status).toBe(401);
    expect(error.message).toBe(`The API key 'old-ci' (${record.prefix}…) was revoked; ask for a new one.`);
    expect(error.message).not.toContain(key);
  });

  it('refuses an expired key, naming it and when it expired', async () => {
    const { key, record } = await storedKey({ name: 'temp', expiresAt: start });
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, undefined);
    const error = await refusal(auth.authenticate(key, true));
    expect(error.message).toBe(`The API key 'temp' (${record.prefix}…) expired at 2025-06-15T12:00:00.000Z; ask for a new one.`);
  });

  it('accepts a key until the millisecond it expires', async () => {
    const { key } = await storedKey({ expiresAt: start + 10_000 });
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, undefined);
    clock.advance(9_999);
    await expect(auth.authenticate(key, false)).resolves.toBeDefined();
    clock.advance(1);
    await expect(auth.authenticate(key, false)).rejects.toThrow(/expired at/);
  });

  it('refuses an unknown cb_ key, even from loopback with anonymous access allowed', async () => {
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, undefined);
    const error = await refusal(auth.authenticate(generateGatewayKey().key, true));
    expect(error.status).toBe(401);
    expect(error.message).toBe('The API key is not valid for this gateway.');
  });

  it('sees a revocation made directly in the store once the 5 s cache has passed', async () => {
    const { key, record } = await storedKey();
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, undefined);
    await auth.authenticate(key, false);
    await store.gatewayKeys.revoke(record.id, clock.now());
    clock.advance(4_999);
    await expect(auth.authenticate(key, false)).resolves.toBeDefined(); // cached
    clock.advance(1);
    await expect(auth.authenticate(key, false)).rejects.toThrow(/was revoked/);
  });

  it('sees a revocation at once after invalidate()', async () => {
    const { key, record } = await storedKey();
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, undefined);
    await auth.authenticate(key, false);
    await store.gatewayKeys.revoke(record.id, clock.now());
    auth.invalidate();
    await expect(auth.authenticate(key, false)).rejects.toThrow(/was revoked/);
  });

  it('remembers an unknown key for the cache period too (a key added meanwhile is seen after 5 s)', async () => {
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, adminKey);
    const { key, hash, prefix } = generateGatewayKey();
    await expect(auth.authenticate(key, false)).rejects.toThrow('The API key is not valid for this gateway.');
    await store.gatewayKeys.insert({
      id: newKeyId(),
      name: 'late',
      hash,
      prefix,
      owner: {},
      scopes: {},
      createdAt: start,
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
    });
    await expect(auth.authenticate(key, false)).rejects.toThrow(GatewayError);
    clock.advance(5_000);
    expect((await auth.authenticate(key, false)).principal.name).toBe('late');
  });

  it('takeUsed returns the ids of keys used since the last call, once each', async () => {
    const first = await storedKey({ name: 'one' });
    const second = await storedKey({ name: 'two' });
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, adminKey);
    expect(auth.takeUsed()).toEqual([]);
    await auth.authenticate(first.key, false);
    await auth.authenticate(first.key, false);
    await auth.authenticate(second.key, false);
    await auth.authenticate(adminKey, false);
    expect(auth.takeUsed().sort()).toEqual([first.record.id, second.record.id].sort());
    expect(auth.takeUsed()).toEqual([]);
    await auth.authenticate(second.key, false);
    expect(auth.takeUsed()).toEqual([second.record.id]);
  });

  it('does not count refused keys as used', async () => {
    const { key } = await storedKey({ revokedAt: start - 1 });
    const auth = new KeyAuthenticator(store.gatewayKeys, clock, undefined);
    await expect(auth.authenticate(key, false)).rejects.toThrow();
    expect(auth.takeUsed()).toEqual([]);
  });
});
