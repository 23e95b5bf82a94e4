import { createHash, randomBytes } from 'node:crypto';

/** Gateway keys look like `cb_` + 43 url-safe characters (32 random bytes). */
const keyPattern = /^cb_[A-Za-z0-9_-]{43}$/;

/** A new gateway key: the secret to hand out once, and what is stored (its SHA-256 and a display prefix). */
export function generateGatewayKey(): { key: string; hash: string; prefix: string } {
  const key = `cb_${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashGatewayKey(key), prefix: key.slice(0, 9) };
}

/**
 * The stored form of a key. Gateway keys carry 256 random bits, so a plain SHA-256 cannot be brute-forced
 * and is fast enough to compute on every request (a slow password hash would cost milliseconds each).
 */
export function hashGatewayKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function looksLikeGatewayKey(value: string): boolean {
  return keyPattern.test(value);
}

/** `key_` + 16 random hex characters. */
export function newKeyId(): string {
  return `key_${randomBytes(8).toString('hex')}`;
}
