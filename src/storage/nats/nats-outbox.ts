import { JetStreamApiError } from '@nats-io/jetstream';
import type { KV, KvEntry } from '@nats-io/kv';
import type { NewOutboxEntry, OutboxEntry } from '../workflow-repository.js';
import { fromToken, token } from './nats-names.js';

const wrongLastSequence = 10071;

/**
 * The outbox in a KV bucket. `e.{firing}` is the entry (created once, never deleted, changed only by
 * compare-and-set, so two workers can never both lease it); `p.{firing}` lists the entries still
 * pending, so a claim reads only those and not every action ever run. The index may briefly hold an
 * entry that is already settled (a crash between the two writes); claims check the entry and drop such
 * index keys.
 */
export class NatsOutbox {
  constructor(private readonly kv: KV) {}

  /** The entry and its KV revision. */
  async read(firingId: string): Promise<{ entry: OutboxEntry; revision: number } | undefined> {
    const found = await this.kv.get(`e.${token(firingId)}`);
    return live(found) ? { entry: normalize(found.json<OutboxEntry>()), revision: found.revision } : undefined;
  }

  async get(firingId: string): Promise<OutboxEntry | undefined> {
    return (await this.read(firingId))?.entry;
  }

  /** Whether a firing id is taken (pending or settled). */
  async has(firingId: string): Promise<boolean> {
    return (await this.read(firingId)) !== undefined;
  }

  /** Creates the pending entry and indexes it; a second call for the same firing changes nothing. */
  async enqueue(entry: NewOutboxEntry): Promise<void> {
    const key = token(entry.firingId);
    try {
      await this.kv.create(`e.${key}`, JSON.stringify(pending(entry)));
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
      if ((await this.get(entry.firingId))?.status !== 'pending') return;
    }
    await this.kv.put(`p.${key}`, '');
  }

  /** Marks the entry done or failed (clearing its lease) and drops it from the pending index. */
  async settle(settled: { firingId: string; status: 'done' | 'failed'; output?: unknown; error?: string }): Promise<void> {
    await this.change(settled.firingId, (entry) => {
      if (entry.status !== 'pending') return undefined;
      const next: OutboxEntry = { ...entry, status: settled.status, output: settled.output, leaseOwner: undefined, leaseUntil: undefined };
      if (settled.error !== undefined) next.lastError = settled.error;
      return next;
    });
    await this.kv.delete(`p.${token(settled.firingId)}`);
  }

  /** See `WorkflowRepository.claimOutbox`: each lease is a compare-and-set, so a lost race just skips the entry. */
  async claim(options: { owner: string; now: number; leaseMs: number; limit: number }): Promise<OutboxEntry[]> {
    const candidates: { entry: OutboxEntry; revision: number }[] = [];
    for (const key of await this.keys('p.*')) {
      const firingId = fromToken(key.slice(2));
      const found = await this.read(firingId);
      if (!found || found.entry.status !== 'pending') {
        await this.kv.delete(key);
        continue;
      }
      const { entry } = found;
      if (entry.availableAt <= options.now && (entry.leaseUntil === undefined || entry.leaseUntil <= options.now)) candidates.push(found);
    }
    candidates.sort((left, right) => left.entry.availableAt - right.entry.availableAt);
    const claimed: OutboxEntry[] = [];
    for (const { entry, revision } of candidates) {
      if (claimed.length >= options.limit) break;
      const leased: OutboxEntry = {
        ...entry,
        leaseOwner: options.owner,
        leaseUntil: options.now + options.leaseMs,
        attempts: entry.attempts + 1,
      };
      try {
        await this.kv.update(`e.${token(entry.firingId)}`, JSON.stringify(leased), revision);
        claimed.push(leased);
      } catch (error) {
        if (!isWrongLastSequence(error)) throw error;
      }
    }
    return claimed;
  }

  /** Gives a lease back; only its owner can, and only while the entry is pending. */
  async release(firingId: string, options: { owner: string; availableAt: number; error?: string }): Promise<void> {
    await this.change(firingId, (entry) => {
      if (entry.status !== 'pending' || entry.leaseOwner !== options.owner) return undefined;
      const next: OutboxEntry = { ...entry, leaseOwner: undefined, leaseUntil: undefined, availableAt: options.availableAt };
      if (options.error !== undefined) next.lastError = options.error;
      return next;
    });
  }

  /** Read-modify-CAS until it holds or `update` says there is nothing to do. */
  private async change(firingId: string, update: (entry: OutboxEntry) => OutboxEntry | undefined): Promise<void> {
    for (;;) {
      const found = await this.read(firingId);
      if (!found) return;
      const next = update(found.entry);
      if (!next) return;
      try {
        await this.kv.update(`e.${token(firingId)}`, JSON.stringify(next), found.revision);
        return;
      } catch (error) {
        if (!isWrongLastSequence(error)) throw error;
      }
    }
  }

  private async keys(filter: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const key of await this.kv.keys(filter)) keys.push(key);
    return keys;
  }
}

export function isWrongLastSequence(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === wrongLastSequence;
}

/** A KV entry that holds a value (not a delete or purge marker). */
export function live(entry: KvEntry | null): entry is KvEntry {
  return entry !== null && entry.operation === 'PUT';
}

function pending(entry: NewOutboxEntry): OutboxEntry {
  return {
    ...structuredClone(entry),
    status: 'pending',
    attempts: 0,
    leaseOwner: undefined,
    leaseUntil: undefined,
    lastError: undefined,
    output: undefined,
  };
}

/** JSON drops `undefined`: give the optional fields back their explicit `undefined`. */
function normalize(entry: OutboxEntry): OutboxEntry {
  entry.leaseOwner ??= undefined;
  entry.leaseUntil ??= undefined;
  entry.lastError ??= undefined;
  entry.output ??= undefined;
  return entry;
}
