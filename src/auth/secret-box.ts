import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Encryption of secrets at rest (provider keys added at run time): AES-256-GCM with a random 96-bit IV
 * per record and the record's id as associated data, so a ciphertext copied onto another row does not
 * decrypt. The master key is 32 bytes, given as 64 hex characters or base64 (`CB_MASTER_KEY`, or a key
 * file). Records remember the fingerprint of the master key that sealed them, so a rotation can hold the
 * old and the new key at once and re-encrypt without downtime.
 */
export interface Sealed {
  ciphertext: string;
  iv: string;
  tag: string;
  masterFingerprint: string;
}

export class MasterKey {
  readonly fingerprint: string;
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
    this.fingerprint = createHash('sha256').update(key).digest('hex').slice(0, 16);
  }

  /** Parses 64 hex characters or base64 of 32 bytes; returns an error sentence otherwise. */
  static parse(text: string): MasterKey | { error: string } {
    const value = text.trim();
    const hex = /^[0-9a-fA-F]{64}$/.test(value);
    const base64 = /^[A-Za-z0-9+/_-]{43}=?$/.test(value);
    const bytes = hex
      ? Buffer.from(value, 'hex')
      : base64
        ? Buffer.from(value.replaceAll('-', '+').replaceAll('_', '/'), 'base64')
        : undefined;
    if (bytes?.length !== 32)
      return { error: 'a master key must be 32 bytes, written as 64 hex characters or base64 (generate one with `openssl rand -hex 32`)' };
    return new MasterKey(bytes);
  }

  static generate(): { key: MasterKey; text: string } {
    const bytes = randomBytes(32);
    return { key: new MasterKey(bytes), text: bytes.toString('hex') };
  }

  seal(plaintext: string, recordId: string): Sealed {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(recordId, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return {
      ciphertext: ciphertext.toString('base64'),
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      masterFingerprint: this.fingerprint,
    };
  }

  /** Throws when the record was tampered with, moved to another id, or sealed with another key. */
  open(sealed: Sealed, recordId: string): string {
    if (sealed.masterFingerprint !== this.fingerprint)
      throw new Error(`sealed with master key ${sealed.masterFingerprint}, not ${this.fingerprint}`);
    const tag = Buffer.from(sealed.tag, 'base64');
    // A truncated tag would lower forgery resistance; GCM tags here are always the full 16 bytes.
    if (tag.length !== 16) throw new Error(`record ${recordId} has a ${tag.length}-byte tag, not 16`);
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(sealed.iv, 'base64'), { authTagLength: 16 });
    decipher.setAAD(Buffer.from(recordId, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64')), decipher.final()]).toString('utf8');
  }

  toString(): string {
    return `MasterKey(${this.fingerprint})`;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** The current master key plus older ones still accepted for reading (during a rotation). */
export class Keyring {
  constructor(
    readonly current: MasterKey,
    private readonly previous: readonly MasterKey[] = [],
  ) {}

  seal(plaintext: string, recordId: string): Sealed {
    return this.current.seal(plaintext, recordId);
  }

  open(sealed: Sealed, recordId: string): string {
    const key = [this.current, ...this.previous].find((candidate) => candidate.fingerprint === sealed.masterFingerprint);
    if (!key) throw new Error(`record ${recordId} was sealed with master key ${sealed.masterFingerprint}, which is not configured`);
    return key.open(sealed, recordId);
  }
}
