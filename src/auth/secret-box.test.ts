import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Keyring, MasterKey } from './secret-box.js';
import type { Sealed } from './secret-box.js';

const bytes = Buffer.from(Array.from({ length: 32 }, (_, index) => index * 7 + 3));
const hex = bytes.toString('hex');

function parse(text: string): MasterKey {
  const key = MasterKey.parse(text);
  if (!(key instanceof MasterKey)) throw new Error(key.error);
  return key;
}

/** Flips one bit of a base64 field. */
function flip(base64: string, index = 0): string {
  const raw = Buffer.from(base64, 'base64');
  raw[index] = (raw[index] ?? 0) ^ 0x01;
  return raw.toString('base64');
}

const plaintext = 'sk-proj-Z3Jvb3Z5IGtleSBmb3IgdGVzdHMgb25seQ';

describe('MasterKey.parse', () => {
  it.each([
    ['64 hex characters', hex],
    ['64 upper-case hex characters', hex.toUpperCase()],
    ['base64 with padding', bytes.toString('base64')],
    ['base64 without padding', bytes.toString('base64').replace(/=$/, '')],
    ['base64url', bytes.toString('base64url')],
    ['hex with surrounding whitespace (a key file with a newline)', `  ${hex}\n`],
  ])('accepts %s, all the same key', (_label, text) => {
    expect(parse(text).fingerprint).toBe(parse(hex).fingerprint);
  });

  it('gives the same key for the base64 and base64url spellings of bytes that differ between them', () => {
    const awkward = Buffer.alloc(32, 0xfb); // base64 '+/…', base64url '-_…'
    expect(awkward.toString('base64')).toMatch(/[+/]/);
    expect(parse(awkward.toString('base64url')).fingerprint).toBe(parse(awkward.toString('base64')).fingerprint);
    expect(parse(awkward.toString('base64url')).fingerprint).toBe(parse(awkward.toString('hex')).fingerprint);
  });

  it.each([
    ['63 hex characters', hex.slice(0, 63)],
    ['65 hex characters', `${hex}a`],
    ['128 hex characters (64 bytes)', hex + hex],
    ['base64 of 16 bytes', randomBytes(16).toString('base64')],
    ['base64 of 31 bytes', randomBytes(31).toString('base64')],
    ['base64 of 33 bytes', randomBytes(33).toString('base64')],
    ['base64 of 48 bytes', randomBytes(48).toString('base64')],
    ['an empty text', ''],
    ['a passphrase', 'correct horse battery staple'],
    ['hex with a non-hex character', `${hex.slice(0, 63)}g`],
  ])('refuses %s with an error sentence', (_label, text) => {
    const result = MasterKey.parse(text);
    expect(result).not.toBeInstanceOf(MasterKey);
    expect((result as { error: string }).error).toContain('32 bytes');
    expect((result as { error: string }).error).toContain('64 hex characters or base64');
  });

  it('fingerprints are 16 hex characters that differ between keys', () => {
    const one = parse(hex);
    const other = MasterKey.generate().key;
    expect(one.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(other.fingerprint).not.toBe(one.fingerprint);
  });

  it('generate() gives a key and its hex text, which parses back to the same key', () => {
    const { key, text } = MasterKey.generate();
    expect(text).toMatch(/^[0-9a-f]{64}$/);
    expect(parse(text).fingerprint).toBe(key.fingerprint);
  });
});

describe('MasterKey seal and open', () => {
  const key = parse(hex);

  it('round-trips a secret for the same record id', () => {
    const sealed = key.seal(plaintext, 'pk_1');
    expect(sealed.masterFingerprint).toBe(key.fingerprint);
    expect(key.open(sealed, 'pk_1')).toBe(plaintext);
  });

  it('round-trips empty and non-ASCII secrets', () => {
    expect(key.open(key.seal('', 'pk_1'), 'pk_1')).toBe('');
    expect(key.open(key.seal('clé-🔑-ключ', 'pk_1'), 'pk_1')).toBe('clé-🔑-ключ');
  });

  it('uses a random 96-bit IV, so sealing the same secret twice gives different ciphertexts', () => {
    const first = key.seal(plaintext, 'pk_1');
    const second = key.seal(plaintext, 'pk_1');
    expect(Buffer.from(first.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(first.tag, 'base64')).toHaveLength(16);
    expect(second.iv).not.toBe(first.iv);
    expect(second.ciphertext).not.toBe(first.ciphertext);
    expect(key.open(second, 'pk_1')).toBe(plaintext);
  });

  it('does not open a ciphertext moved to another record id (the id is the associated data)', () => {
    const sealed = key.seal(plaintext, 'pk_1');
    expect(() => key.open(sealed, 'pk_2')).toThrow();
    expect(() => key.open(sealed, '')).toThrow();
  });

  it.each<[string, (sealed: Sealed) => Sealed]>([
    ['the ciphertext', (sealed) => ({ ...sealed, ciphertext: flip(sealed.ciphertext, 3) })],
    ['the tag', (sealed) => ({ ...sealed, tag: flip(sealed.tag, 15) })],
    ['the IV', (sealed) => ({ ...sealed, iv: flip(sealed.iv, 0) })],
    [
      'the length of the ciphertext',
      (sealed) => ({ ...sealed, ciphertext: Buffer.from(sealed.ciphertext, 'base64').subarray(1).toString('base64') }),
    ],
  ])('does not open a record whose %s was tampered with', (_label, tamper) => {
    expect(() => key.open(tamper(key.seal(plaintext, 'pk_1')), 'pk_1')).toThrow();
  });

  it('does not open a record whose tag was truncated (GCM tag length is not pinned to 16 bytes)', () => {
    const sealed = key.seal(plaintext, 'pk_1');
    const truncated = { ...sealed, tag: Buffer.from(sealed.tag, 'base64').subarray(0, 4).toString('base64') };
    expect(() => key.open(truncated, 'pk_1')).toThrow();
  });

  it('does not open a record sealed with another master key, saying which', () => {
    const other = MasterKey.generate().key;
    const sealed = other.seal(plaintext, 'pk_1');
    expect(() => key.open(sealed, 'pk_1')).toThrow(`sealed with master key ${other.fingerprint}, not ${key.fingerprint}`);
    // Even with the fingerprint forged to match, the wrong key fails authentication.
    expect(() => key.open({ ...sealed, masterFingerprint: key.fingerprint }, 'pk_1')).toThrow();
  });

  it('never writes the plaintext into the sealed record', () => {
    const sealed = key.seal(plaintext, 'pk_1');
    const stored = JSON.stringify(sealed);
    expect(stored).not.toContain(plaintext);
    expect(Buffer.from(sealed.ciphertext, 'base64').includes(Buffer.from(plaintext))).toBe(false);
    expect(Buffer.from(sealed.ciphertext, 'base64')).toHaveLength(Buffer.byteLength(plaintext));
  });

  it('does not reveal the key through toString, JSON or inspect', () => {
    const printed = [
      String(key),
      `${key}`,
      JSON.stringify(key),
      JSON.stringify({ key }),
      inspect(key),
      inspect(key, { showHidden: true, depth: 5 }),
    ];
    for (const text of printed) {
      expect(text).not.toContain(hex);
      expect(text).not.toContain(bytes.toString('base64').slice(0, 20));
    }
    expect(String(key)).toBe(`MasterKey(${key.fingerprint})`);
    expect(JSON.stringify({ key })).toBe(`{"key":"MasterKey(${key.fingerprint})"}`);
  });
});

describe('Keyring', () => {
  const old = parse(hex);
  const current = MasterKey.generate().key;

  it('seals with the current key', () => {
    const ring = new Keyring(current, [old]);
    const sealed = ring.seal(plaintext, 'pk_1');
    expect(sealed.masterFingerprint).toBe(current.fingerprint);
    expect(current.open(sealed, 'pk_1')).toBe(plaintext);
    expect(() => old.open(sealed, 'pk_1')).toThrow();
  });

  it('opens records of a previous key and of the current one (during a rotation)', () => {
    const ring = new Keyring(current, [old]);
    expect(ring.open(old.seal(plaintext, 'pk_old'), 'pk_old')).toBe(plaintext);
    expect(ring.open(current.seal('newer', 'pk_new'), 'pk_new')).toBe('newer');
  });

  it('re-encrypts a previous key’s record under the current key', () => {
    const ring = new Keyring(current, [old]);
    const before = old.seal(plaintext, 'pk_1');
    const after = ring.seal(ring.open(before, 'pk_1'), 'pk_1');
    expect(after.masterFingerprint).toBe(current.fingerprint);
    expect(new Keyring(current).open(after, 'pk_1')).toBe(plaintext);
  });

  it('refuses a record of a key it does not hold, naming the record and the fingerprint', () => {
    const stranger = MasterKey.generate().key;
    const ring = new Keyring(current, [old]);
    expect(() => ring.open(stranger.seal(plaintext, 'pk_9'), 'pk_9')).toThrow(
      `record pk_9 was sealed with master key ${stranger.fingerprint}, which is not configured`,
    );
    expect(() => new Keyring(current).open(old.seal(plaintext, 'pk_1'), 'pk_1')).toThrow(/not configured/);
  });

  it('still checks the record id for a previous key', () => {
    const ring = new Keyring(current, [old]);
    expect(() => ring.open(old.seal(plaintext, 'pk_1'), 'pk_2')).toThrow();
  });
});
