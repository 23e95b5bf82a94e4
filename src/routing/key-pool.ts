import { createHash } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Secret } from '../config/secret.js';

export interface KeyState {
  /** Position in the provider's pool (keys themselves are never shown). */
  index: number;
  /** A short fingerprint of the key (first 8 hex of its SHA-256), safe to show. */
  fingerprint: string;
  coolingUntil: number;
  requests: number;
  rateLimited: number;
}

/**
 * A provider's keys. Requests are spread round-robin over the keys that are not cooling down; a key that
 * gets a 429 cools down alone (for its `Retry-After`, else a default) while the others carry on. A
 * request may pin a "sticky" key by a hash of its prompt prefix, so the provider's prompt cache stays
 * warm, falling back to round-robin when that key is cooling.
 */
export class KeyPool {
  private keys: Secret[];
  private states: KeyState[];
  private cursor = 0;

  constructor(
    keys: readonly Secret[],
    private readonly clock: Clock,
  ) {
    this.keys = [...keys];
    this.states = this.keys.map((key, index) => newState(key, index));
  }

  /** Adds a key at run time (a provider key stored through the admin API); false when it was already in the pool. */
  add(key: Secret): boolean {
    if (this.keys.some((existing) => existing.reveal() === key.reveal())) return false;
    this.keys.push(key);
    this.states.push(newState(key, this.keys.length - 1));
    return true;
  }

  /** Takes the key with this fingerprint out of the pool; returns whether it was there. */
  remove(fingerprint: string): boolean {
    const position = this.states.findIndex((state) => state.fingerprint === fingerprint);
    if (position === -1) return false;
    this.keys.splice(position, 1);
    this.states.splice(position, 1);
    this.states.forEach((state, index) => (state.index = index));
    return true;
  }

  get size(): number {
    return this.keys.length;
  }

  /** The next usable key, or undefined when all are cooling down (a keyless provider always gets ''). */
  take(stickiness?: string): { key: string; index: number } | undefined {
    if (this.keys.length === 0) return { key: '', index: -1 };
    const now = this.clock.now();
    if (stickiness !== undefined) {
      const preferred = createHash('sha256').update(stickiness).digest().readUInt32BE(0) % this.keys.length;
      if ((this.states[preferred]?.coolingUntil ?? 0) <= now) return this.use(preferred);
    }
    for (let step = 0; step < this.keys.length; step++) {
      const index = (this.cursor + step) % this.keys.length;
      if ((this.states[index]?.coolingUntil ?? 0) <= now) {
        this.cursor = index + 1;
        return this.use(index);
      }
    }
    return undefined;
  }

  /** Epoch ms when some key is usable again. */
  availableAt(): number {
    if (this.keys.length === 0) return this.clock.now();
    return Math.min(...this.states.map((state) => Math.max(state.coolingUntil, this.clock.now())));
  }

  /** A 429 on this key: it cools down alone; a second, shorter cooldown never shortens the first. */
  rateLimited(index: number, cooldownMs: number): void {
    const state = this.states[index];
    if (!state) return;
    state.rateLimited++;
    state.coolingUntil = Math.max(state.coolingUntil, this.clock.now() + cooldownMs);
  }

  snapshot(): KeyState[] {
    return this.states.map((state) => ({ ...state }));
  }

  private use(index: number): { key: string; index: number } {
    const state = this.states[index] as KeyState;
    state.requests++;
    return { key: (this.keys[index] as Secret).reveal(), index };
  }
}

/** First 8 hex of the key's SHA-256: how a key is named anywhere it is shown. */
export function keyFingerprint(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

function newState(key: Secret, index: number): KeyState {
  return { index, fingerprint: keyFingerprint(key.reveal()), coolingUntil: 0, requests: 0, rateLimited: 0 };
}
